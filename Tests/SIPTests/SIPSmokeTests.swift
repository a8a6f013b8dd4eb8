import XCTest
@testable import SIP

final class SIPSmokeTests: XCTestCase {
    func testModuleLoads() {
        XCTAssertTrue(true)
    }
}

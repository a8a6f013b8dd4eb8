import XCTest
@testable import IKEv2

final class IKEv2SmokeTests: XCTestCase {
    func testModuleLoads() {
        XCTAssertTrue(true)
    }
}

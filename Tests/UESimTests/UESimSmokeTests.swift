import XCTest
@testable import UESim

final class UESimSmokeTests: XCTestCase {
    func testModuleLoads() {
        XCTAssertTrue(true)
    }
}

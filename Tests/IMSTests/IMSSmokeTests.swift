import XCTest
@testable import IMS

final class IMSSmokeTests: XCTestCase {
    func testModuleLoads() {
        XCTAssertTrue(true)
    }
}

import XCTest
@testable import HSS

final class HSSSmokeTests: XCTestCase {
    func testModuleLoads() {
        XCTAssertTrue(true)
    }
}

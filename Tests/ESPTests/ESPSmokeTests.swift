import XCTest
@testable import ESP

final class ESPSmokeTests: XCTestCase {
    func testModuleLoads() {
        XCTAssertTrue(true)
    }
}

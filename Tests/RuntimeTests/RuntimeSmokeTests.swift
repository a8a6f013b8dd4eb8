import XCTest
@testable import Runtime

final class RuntimeSmokeTests: XCTestCase {
    func testModuleLoads() {
        XCTAssertTrue(true)
    }
}

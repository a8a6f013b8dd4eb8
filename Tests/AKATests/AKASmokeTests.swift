import XCTest
@testable import AKA

final class AKASmokeTests: XCTestCase {
    func testModuleLoads() {
        XCTAssertTrue(true)
    }
}

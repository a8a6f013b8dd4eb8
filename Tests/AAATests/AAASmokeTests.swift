import XCTest
@testable import AAA

final class AAASmokeTests: XCTestCase {
    func testModuleLoads() { XCTAssertEqual(AAALayer.name, "aaa") }
}

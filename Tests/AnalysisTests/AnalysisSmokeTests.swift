import XCTest
@testable import Analysis

final class AnalysisSmokeTests: XCTestCase {
    func testModuleLoads() { XCTAssertEqual(AnalysisLayer.name, "analysis") }
}

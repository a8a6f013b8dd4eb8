import XCTest
@testable import AKA

final class AKABenchTests: XCTestCase {
    func testBenchRuns() throws {
        let results = try AKABench.run(count: 200)
        XCTAssertEqual(results.count, 3)
        for r in results {
            XCTAssertEqual(r.operations, 200)
            XCTAssertGreaterThan(r.perSecond, 0)
            print(r)
        }
    }
}

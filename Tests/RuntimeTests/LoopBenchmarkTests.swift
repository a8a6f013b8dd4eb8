import XCTest
@testable import Runtime

final class LoopBenchmarkTests: XCTestCase {
    func testShortEchoRunCountsEveryDatagram() throws {
        let r = try LoopBenchmark.udpEcho(label: "t", loops: 2, batchSize: 8, clients: 2, window: 16, payloadSize: 64, seconds: 0.2)
        XCTAssertGreaterThan(r.echoed, 100)
        XCTAssertEqual(r.lost, 0)
        XCTAssertEqual(r.echoed % 16, 0, "whole windows come back")
        XCTAssertTrue(LoopBenchmark.machineDescription().hasPrefix("nproc \(EventLoopGroup.coreCount), CPU "))
    }
}

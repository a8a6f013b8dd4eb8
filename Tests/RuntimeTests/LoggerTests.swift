import XCTest
import Glibc
@testable import Runtime

final class LoggerTests: XCTestCase {
    func testLineFormat() {
        var ts = timespec(tv_sec: 0, tv_nsec: 7_000_000)
        var t = ts.tv_sec
        var tmv = tm()
        localtime_r(&t, &tmv)
        ts.tv_sec = 45 + 60 * 4 + 3600 * 2 - Int(tmv.tm_gmtoff)  // 02:04:45 local
        let line = Logger.format(time: ts, layer: .ikev2, dir: .from, ue: "001010123456789", message: "IKE_SA_INIT request")
        XCTAssertEqual(line, "02:04:45.007 [IKEV2] FROM 001010123456789 IKE_SA_INIT request")
        let ts2 = timespec(tv_sec: ts.tv_sec + 3600 * 11 + 1, tv_nsec: 999_999_999)
        XCTAssertEqual(Logger.format(time: ts2, layer: .sip, dir: .none, ue: nil, message: "x"), "13:04:46.999 [SIP] - - x")
    }

    func testLevelsPerLayerAndOptionsString() throws {
        let lines = Collector<String>()
        let log = try Logger(options: "all.level=error,ikev2.level=debug,sip.level=info,sip.max_size=1,nas.level=debug",
                             destination: .lines { lines.append($0) })
        XCTAssertEqual(log.level(of: .ikev2), .debug)
        XCTAssertEqual(log.level(of: .sip), .info)
        XCTAssertEqual(log.level(of: .hss), .error)
        var built = 0
        log.debug(.ikev2, "a", dir: .to, ue: "u1")
        log.debug(.sip, "b\({ built += 1; return "" }())")  // disabled: never built
        log.info(.sip, "c", dir: .from)
        log.info(.hss, "d")
        log.error(.hss, "e")
        XCTAssertEqual(built, 0)
        XCTAssertEqual(lines.values.map { String($0.dropFirst(13)) }, ["[IKEV2] TO u1 a", "[SIP] FROM - c", "[HSS] - - e"])
        let none = try Logger(levels: [.eap: .none], defaultLevel: .debug, destination: .lines { lines.append($0) })
        XCTAssertFalse(none.isEnabled(.eap, .error))
        XCTAssertTrue(none.isEnabled(.ipsec, .debug))
        XCTAssertFalse(none.isEnabled(.ipsec, .none))
    }

    func testFileDestinationFromManyThreadsKeepsLinesWhole() throws {
        let path = "/tmp/vowifi-rt-log-\(getpid()).log"
        unlink(path)
        defer { unlink(path) }
        do {
            let log = try Logger(defaultLevel: .info, destination: .file(path: path))
            DispatchQueue.concurrentPerform(iterations: 8) { t in
                for i in 0..<500 { log.info(.runtime, "message \(i) " + String(repeating: "x", count: 200), ue: "t\(t)") }
            }
        }
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let lines = text.split(separator: "\n")
        XCTAssertEqual(lines.count, 4000)
        XCTAssertTrue(lines.allSatisfy { $0.contains(" [RUNTIME] - t") && $0.hasSuffix(String(repeating: "x", count: 200)) })
        XCTAssertThrowsError(try Logger(destination: .file(path: "/nonexistent-dir/x.log")))
    }
}

import XCTest
import Foundation
import Synchronization
import AKA
@testable import HSS

/// SQN durability: vectors handed out before a restart, including a SIGKILL, are never
/// followed by a lower or equal SQN.
final class HSSPersistenceTests: XCTestCase {
    static let imsi = "001010000000001"
    static func subscribers() -> [Subscriber] {
        [Subscriber(imsi: imsi, algorithm: .milenage, k: [UInt8](hex: "465b5ce8b199b49faa5f0a2ee238a6bc"),
                    opc: [UInt8](hex: "cd63cb71954a9f4e48a5994e37a02baf"), amf: 0x9001)]
    }

    private func tempDir() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hss-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return dir
    }

    func testRestartContinuesAboveReservation() throws {
        let db = try tempDir().appendingPathComponent("sqn.db").path
        var handedOut: [SQN] = []
        do {
            let hss = try HSS(subscribers: Self.subscribers(), databasePath: db)
            for _ in 0..<5 { handedOut.append(try hss.vector(imsi: Self.imsi).sqn) }
            XCTAssertTrue(FileManager.default.fileExists(atPath: db + "-wal"), "database not in WAL mode")
        }
        let hss2 = try HSS(subscribers: Self.subscribers(), databasePath: db)
        let next = try hss2.vector(imsi: Self.imsi)
        XCTAssertGreaterThan(next.sqn, handedOut.max()!)
        XCTAssertEqual(next.sqn.seq(), 32 + 1) // continues above the 32-SEQ reservation
        // Resync to a USIM far ahead, then restart: still above SEQ_MS's successor.
        var card = try USIM(algorithm: Self.subscribers()[0].authenticationAlgorithm(), lastSQN: SQN(seq: 5000, ind: 0))
        let v = try hss2.vector(imsi: Self.imsi)
        guard case let .syncFailure(auts) = try card.authenticate(rand: v.rand, autn: v.autn) else { return XCTFail() }
        try hss2.resync(imsi: Self.imsi, rand: v.rand, auts: auts)
        let v2 = try hss2.vector(imsi: Self.imsi)
        XCTAssertEqual(v2.sqn.seq(), 5001)
        let hss3 = try HSS(subscribers: Self.subscribers(), databasePath: db)
        XCTAssertGreaterThan(try hss3.vector(imsi: Self.imsi).sqn, v2.sqn)
    }

    /// Not a test on its own: the body of the child process of testSQNSurvivesKill9.
    func testChildProcessHandingOutVectors() throws {
        let env = ProcessInfo.processInfo.environment
        guard let db = env["HSS_CHILD_DB"], let out = env["HSS_CHILD_OUT"] else {
            throw XCTSkip("runs only as the child of testSQNSurvivesKill9")
        }
        let hss = try HSS(subscribers: Self.subscribers(), databasePath: db)
        let fd = open(out, O_WRONLY | O_APPEND | O_CREAT, 0o644)
        guard fd >= 0 else { return XCTFail("cannot open \(out)") }
        for _ in 0..<1_000_000 {
            let line = Array("\(try hss.vector(imsi: Self.imsi).sqn)\n".utf8)
            _ = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        }
        close(fd)
    }

    func testSQNSurvivesKill9() throws {
        let dir = try tempDir()
        let db = dir.appendingPathComponent("sqn.db").path
        let out = dir.appendingPathComponent("handed-out.txt").path
        let exe = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        for round in 0..<2 { // twice: the second child starts from the first one's database
            let child = Process()
            child.executableURL = URL(fileURLWithPath: exe)
            child.arguments = ["HSSTests.HSSPersistenceTests/testChildProcessHandingOutVectors"]
            var env = ProcessInfo.processInfo.environment
            env["HSS_CHILD_DB"] = db
            env["HSS_CHILD_OUT"] = out
            child.environment = env
            child.standardOutput = FileHandle.nullDevice
            child.standardError = FileHandle.nullDevice
            try child.run()
            let target = 300 * (round + 1)
            let deadline = Date().addingTimeInterval(60)
            while Self.readSQNs(out).count < target && Date() < deadline && child.isRunning {
                usleep(2_000)
            }
            XCTAssertTrue(child.isRunning, "child ended early (status \(child.terminationStatus))")
            kill(child.processIdentifier, SIGKILL)
            child.waitUntilExit()
            XCTAssertEqual(child.terminationReason, .uncaughtSignal)
            XCTAssertEqual(child.terminationStatus, SIGKILL)
        }
        let handedOut = Self.readSQNs(out)
        XCTAssertGreaterThanOrEqual(handedOut.count, 600)
        XCTAssertEqual(Set(handedOut).count, handedOut.count, "an SQN was handed out twice across the kill")
        let maxBefore = try XCTUnwrap(handedOut.max())
        let hss = try HSS(subscribers: Self.subscribers(), databasePath: db)
        let next = try hss.vector(imsi: Self.imsi)
        XCTAssertGreaterThan(next.sqn, maxBefore)
        // The SQN comes out of AUTN too: (SQN xor AK) xor AK.
        XCTAssertEqual(try SQN(bytes: zip(next.sqnXorAK, next.ak).map { $0 ^ $1 }), next.sqn)
        print("kill -9 test: \(handedOut.count) SQNs handed out by 2 killed children, max \(maxBefore), next after restart \(next.sqn)")
    }

    /// Many threads share one HSS: every SQN is distinct and the count adds up.
    func testConcurrentVectorsAreDistinct() throws {
        let db = try tempDir().appendingPathComponent("sqn.db").path
        let hss = try HSS(subscribers: Self.subscribers(), databasePath: db)
        let results = Mutex<[SQN]>([])
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            var mine: [SQN] = []
            for _ in 0..<100 { if let v = try? hss.vector(imsi: Self.imsi) { mine.append(v.sqn) } }
            results.withLock { $0 += mine }
        }
        let all = results.withLock { $0 }
        XCTAssertEqual(all.count, 800)
        XCTAssertEqual(Set(all).count, 800)
        XCTAssertEqual(hss.currentSEQ(imsi: Self.imsi), 800)
    }

    /// Complete lines of hex SQNs written by the child (a torn last line is ignored).
    static func readSQNs(_ path: String) -> [SQN] {
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        var text = String(decoding: data, as: UTF8.self)
        if let lastNewline = text.lastIndex(of: "\n") { text = String(text[...lastNewline]) } else { return [] }
        return text.split(separator: "\n").compactMap { try? SQN(hex: String($0)) }
    }

    /// Vector generation speed with the durable store (32-SEQ reservations) and, for
    /// comparison, with a commit per vector.
    func testVectorRateWithPersistence() throws {
        let dir = try tempDir()
        func rate(block: Int, count: Int) throws -> Double {
            let hss = try HSS(subscribers: Self.subscribers(), databasePath: dir.appendingPathComponent("b\(block).db").path,
                              reservationBlock: block)
            let start = Date()
            for _ in 0..<count { _ = try hss.vector(imsi: Self.imsi) }
            return Double(count) / Date().timeIntervalSince(start)
        }
        let batched = try rate(block: 32, count: 3000)
        let perVector = try rate(block: 1, count: 200)
        print(String(format: "HSS vectors/s with SQLite: %.0f (32-SEQ reservations), %.0f (commit per vector)", batched, perVector))
        XCTAssertGreaterThan(batched, 500)
    }
}

import Synchronization
import AAA

/// Collects server events and log lines from the UDP server's thread for assertions.
final class Recorder: Sendable {
    private let events = Mutex<[RADIUSEvent]>([])
    private let lines = Mutex<[String]>([])

    func record(_ e: RADIUSEvent) { events.withLock { $0.append(e) } }
    func log(_ level: AAALogLevel, _ line: String) { lines.withLock { $0.append(line) } }
    var allEvents: [RADIUSEvent] { events.withLock { $0 } }
    var allLines: [String] { lines.withLock { $0 } }
    var accepted: [EAPAKAResult] { allEvents.compactMap { if case let .accepted(r) = $0 { r } else { nil } } }
    func rejected(containing s: String) -> Bool {
        allEvents.contains { if case let .rejected(r) = $0 { r.contains(s) } else { false } }
    }
    func discarded(containing s: String) -> Int {
        allEvents.filter { if case let .discarded(r) = $0 { r.contains(s) } else { false } }.count
    }
}

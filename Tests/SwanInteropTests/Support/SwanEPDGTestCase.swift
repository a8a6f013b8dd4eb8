import Foundation
import XCTest

/// The fixture of the tests where our core (in namespace "a") is the ePDG and charon (in
/// namespace "b") the initiator: what a test starts is stopped and removed in `tearDown`
/// (the directory is kept when SWAN_KEEP is set).
class SwanEPDGTestCase: XCTestCase {
    var net: NetnsPair?
    var dir = ""
    var epdg: Process?
    var charon: Charon?
    var capture: Process?

    override func tearDown() {
        charon?.stop()
        EPDGChild.stop(epdg)
        if let c = capture, c.isRunning { c.interrupt(); _ = Shell.waitUntil(5) { !c.isRunning } }
        net?.destroy()
        if !dir.isEmpty, ProcessInfo.processInfo.environment["SWAN_KEEP"] == nil { try? FileManager.default.removeItem(atPath: dir) }
        super.tearDown()
    }
}

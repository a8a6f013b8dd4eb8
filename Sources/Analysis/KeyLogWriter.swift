import Foundation
import Crypto
import IKEv2
import ESP

/// Appends Wireshark key rows live while the ePDG runs: `<dir>/ikev2_decryption_table` for
/// each IKE SA and `<dir>/esp_sa` for each direction of each Child SA. Point Wireshark's
/// profile there (or `XDG_CONFIG_HOME=<parent>` with `<dir>` = `<parent>/wireshark`) and the
/// capture opens decrypted. Each row is one unbuffered `write(2)` of a whole line (flushed
/// as written), so a reader never sees half a row; a lock orders rows from several event loops.
public final class KeyLogWriter: @unchecked Sendable {
    // @unchecked: the file handles are only touched with `lock` held.
    public let directory: String
    private let lock = NSLock()
    private let ikeHandle: FileHandle
    private let espHandle: FileHandle
    private var ikeSeen: Set<String> = []
    private var espSeen: Set<String> = []
    private var loggedSAs: Set<String> = []

    /// Opens (creating) both files in `directory` for appending.
    public init(directory: String) throws {
        self.directory = directory
        let fm = FileManager.default
        try fm.createDirectory(atPath: directory, withIntermediateDirectories: true)
        func open(_ name: String) throws -> FileHandle {
            let path = directory + "/" + name
            if !fm.fileExists(atPath: path) { _ = fm.createFile(atPath: path, contents: nil) }
            let h = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            try h.seekToEnd()
            return h
        }
        ikeHandle = try open("ikev2_decryption_table")
        espHandle = try open("esp_sa")
    }

    deinit {
        try? ikeHandle.close()
        try? espHandle.close()
    }

    /// Logs the IKE SA keys (call as soon as they are derived, i.e. after IKE_SA_INIT, so
    /// failed IKE_AUTH exchanges can be decrypted too). Duplicate rows are written once.
    public func logIKESA(spiI: UInt64, spiR: UInt64, suite: IKESuite, keys: IKEKeys) {
        append(IKEv2KeyRow.line(spiI: spiI, spiR: spiR, suite: suite, keys: keys), ike: true)
    }

    /// Logs from an `IKEAction.ikeSAEstablished` payload.
    public func logIKESA(_ info: IKESAInfo) {
        logIKESA(spiI: info.spiI, spiR: info.spiR, suite: info.suite, keys: info.keys)
    }

    /// Logs an IKE SA's keys once they exist (after IKE_SA_INIT); does nothing before that.
    public func logIKESA(_ sa: IKESA) {
        guard sa.spiR != 0, let suite = sa.suite, let keys = sa.keys else { return }
        let id = "\(sa.spiI)-\(sa.spiR)"
        lock.lock()
        let fresh = loggedSAs.insert(id).inserted
        lock.unlock()
        if fresh { logIKESA(spiI: sa.spiI, spiR: sa.spiR, suite: suite, keys: keys) }
    }

    /// Call with what `IKEResponder.handle` returned: logs the IKE SA keys of every IKE SA the
    /// actions answer for (so the IKE_AUTH of a failed attach can be decrypted too) and the
    /// ESP keys of every Child SA installed.
    public func log(actions: [IKEAction], responder: IKEResponder) {
        for a in actions {
            switch a {
            case let .send(bytes, _, _):
                if let h = try? IKEMessage.peekHeader(bytes), h.spiR != 0, let sa = responder.sa(spiI: h.spiI, spiR: h.spiR) { logIKESA(sa) }
            case let .installChildSA(c): logChildSA(c)
            case let .ikeSAEstablished(i): logIKESA(i)
            case let .ikeSARekeyed(_, _, i): logIKESA(i)      // the new SPIs and keys
            case let .ikeSARedundant(i): logIKESA(i)          // a simultaneous rekey's redundant SA, for its Delete
            default: break
            }
        }
    }

    /// Logs both ESP SAs of a Child SA as this side sees it (`local`/`remote` outer endpoints).
    public func logChildSA(_ c: ChildSADescription) {
        for r in Self.espRows(c) { append(r, ike: false) }
    }

    /// The two `esp_sa` rows of a Child SA: inbound (remote → local, inboundSPI) and
    /// outbound (local → remote, outboundSPI).
    public static func espRows(_ c: ChildSADescription) -> [String] {
        var rows: [String] = []
        let local = c.local.address.description, remote = c.remote.address.description
        let dirs: [(UInt32, [UInt8], [UInt8], String, String, ESPSecurityAssociation.Direction)] = [
            (c.inboundSPI, c.inboundEncryptionKey, c.inboundIntegrityKey, remote, local, .inbound),
            (c.outboundSPI, c.outboundEncryptionKey, c.outboundIntegrityKey, local, remote, .outbound),
        ]
        for (spi, ek, ak, src, dst, d) in dirs {
            guard let t = try? ESPTransform(encryption: c.suite.encryption, encryptionKey: ek, integrity: c.suite.integrity, integrityKey: ak) else { continue }
            let sa = ESPSecurityAssociation(spi: spi, direction: d, transform: t, esn: c.suite.extendedSequenceNumbers)
            rows.append(WiresharkESPSA.row(sa: sa, source: src, destination: dst))
        }
        return rows
    }

    /// Appends a ready-made `ikev2_decryption_table` row. Rows in the quoted-everything form of
    /// `WiresharkIKEv2Table.row` are rewritten with bare hex byte fields, which Wireshark needs.
    public func appendIKEv2Row(_ row: String) {
        if let f = UAT.fields(Substring(row)), let r = try? IKEv2KeyRow(fields: f) { append(r.line, ike: true) } else { append(row, ike: true) }
    }
    /// Appends a ready-made `esp_sa` row.
    public func appendESPRow(_ row: String) { append(row, ike: false) }

    private func append(_ row: String, ike: Bool) {
        lock.lock(); defer { lock.unlock() }
        if ike { guard ikeSeen.insert(row).inserted else { return } } else { guard espSeen.insert(row).inserted else { return } }
        let h = ike ? ikeHandle : espHandle
        do {
            try h.write(contentsOf: Data((row + "\n").utf8))
        } catch {
            FileHandle.standardError.write(Data("key log: cannot write \(directory): \(error)\n".utf8))
        }
    }
}

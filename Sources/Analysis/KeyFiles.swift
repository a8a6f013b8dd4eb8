import Foundation
import Crypto
import IKEv2
import ESP

/// Why a key file row was not usable.
public enum KeyFileError: Error, Equatable, Sendable, CustomStringConvertible {
    case badRow(file: String, line: Int, detail: String)
    public var description: String {
        switch self { case let .badRow(f, l, d): "\(f):\(l): \(d)" }
    }
}

/// Wireshark UAT files are lines of comma-separated double-quoted fields; `#` starts a comment.
/// Quotes inside fields are written as `\x22` by Wireshark and are not expected in key rows.
enum UAT {
    static func fields(_ line: Substring) -> [String]? {
        var out: [String] = []
        var cur = ""
        var inQuote = false
        var sawQuote = false
        for c in line {
            if inQuote {
                if c == "\"" { inQuote = false } else { cur.append(c) }
            } else if c == "\"" {
                inQuote = true; sawQuote = true
            } else if c == "," {
                out.append(cur); cur = ""
            } else if !c.isWhitespace {
                cur.append(c)
            }
        }
        guard sawQuote, !inQuote else { return nil }
        out.append(cur)
        return out
    }

    static func quote(_ f: [String]) -> String { f.map { "\"\($0)\"" }.joined(separator: ",") }
}

/// One row of `ikev2_decryption_table`: the IKE SA's SPIs and SK_e/SK_a of both directions.
public struct IKEv2KeyRow: Sendable, Equatable {
    public var spiI: UInt64
    public var spiR: UInt64
    public var encryption: EncryptionAlgorithm
    public var integrity: IntegrityAlgorithm?
    public var skEi: [UInt8], skEr: [UInt8], skAi: [UInt8], skAr: [UInt8]

    public init(spiI: UInt64, spiR: UInt64, encryption: EncryptionAlgorithm, integrity: IntegrityAlgorithm?,
                skEi: [UInt8], skEr: [UInt8], skAi: [UInt8], skAr: [UInt8]) {
        self.spiI = spiI; self.spiR = spiR; self.encryption = encryption; self.integrity = integrity
        self.skEi = skEi; self.skEr = skEr; self.skAi = skAi; self.skAr = skAr
    }

    /// The row as Wireshark 4.x reads it: SPIs and keys are UAT byte fields, written as bare
    /// hex (a quoted field would be taken as the ASCII text, so Wireshark rejects it as "SPI
    /// must be 8 octets"), and the algorithm names are quoted strings.
    public var line: String {
        let names = UAT.fields(Substring(WiresharkIKEv2Table.row(spii: spiI, spir: spiR, encryption: encryption, skEi: skEi, skEr: skEr,
                                                                 integrity: integrity, skAi: skAi, skAr: skAr))) ?? []
        let enc = names.count == 8 ? names[4] : "", integ = names.count == 8 ? names[7] : ""
        return [Hex.spi(spiI), Hex.spi(spiR), skEi.hex, skEr.hex, "\"\(enc)\"", skAi.hex, skAr.hex, "\"\(integ)\""].joined(separator: ",")
    }

    /// The row for an IKE SA's keys in Wireshark's format (see `line`).
    public static func line(spiI: UInt64, spiR: UInt64, suite: IKESuite, keys: IKEKeys) -> String {
        IKEv2KeyRow(spiI: spiI, spiR: spiR, encryption: suite.encryption, integrity: suite.encryption.isAEAD ? nil : suite.integrity,
                    skEi: keys.SK_ei, skEr: keys.SK_er, skAi: keys.SK_ai, skAr: keys.SK_ar).line
    }

    /// Parses `"spii","spir","sk_ei","sk_er","encr","sk_ai","sk_ar","integ"`.
    public init(fields f: [String]) throws {
        guard f.count == 8 else { throw KeyFileError.badRow(file: "ikev2_decryption_table", line: 0, detail: "\(f.count) fields, expected 8") }
        guard let i = UInt64(f[0], radix: 16), let r = UInt64(f[1], radix: 16) else {
            throw KeyFileError.badRow(file: "ikev2_decryption_table", line: 0, detail: "SPI is not 16 hex digits")
        }
        guard let ei = Hex.decode(f[2]), let er = Hex.decode(f[3]), let ai = Hex.decode(f[5]), let ar = Hex.decode(f[6]) else {
            throw KeyFileError.badRow(file: "ikev2_decryption_table", line: 0, detail: "key is not hex")
        }
        guard let enc = WiresharkNames.ikeEncryption(f[4], keyMaterial: ei.count) else {
            throw KeyFileError.badRow(file: "ikev2_decryption_table", line: 0, detail: "unknown encryption \"\(f[4])\"")
        }
        let integ: IntegrityAlgorithm?
        if enc.isAEAD { integ = nil } else {
            guard let x = WiresharkNames.ikeIntegrity(f[7], keyLength: ai.count) else {
                throw KeyFileError.badRow(file: "ikev2_decryption_table", line: 0, detail: "unknown integrity \"\(f[7])\"")
            }
            integ = x
        }
        self.init(spiI: i, spiR: r, encryption: enc, integrity: integ, skEi: ei, skEr: er, skAi: ai, skAr: ar)
    }
}

/// One row of `esp_sa`: protocol, addresses, SPI and the transform with its keys.
public struct ESPSARow: Sendable, Equatable {
    public var ipVersion: String
    /// Outer source and destination; "*" matches any.
    public var source: String, destination: String
    public var spi: UInt32
    public var encryption: EncryptionAlgorithm
    public var encryptionKey: [UInt8]
    /// Candidates when the row names only an ICV length ("ANY 96 bit authentication").
    public var integrity: [IntegrityAlgorithm?]
    public var integrityKey: [UInt8]
    /// The row as read (or as written).
    public var line: String

    public init(fields f: [String]) throws {
        func bad(_ d: String) -> KeyFileError { .badRow(file: "esp_sa", line: 0, detail: d) }
        guard f.count >= 8 else { throw bad("\(f.count) fields, expected 8") }
        ipVersion = f[0]; source = f[1]; destination = f[2]
        var s = Substring(f[3])
        if s.hasPrefix("0x") || s.hasPrefix("0X") { s = s.dropFirst(2) }
        guard let spi = UInt32(s, radix: 16) else { throw bad("SPI \"\(f[3])\" is not hex") }
        self.spi = spi
        guard let ek = f[5].isEmpty ? [] : Hex.decode(f[5]), let ak = f[7].isEmpty ? [] : Hex.decode(f[7]) else { throw bad("key is not hex") }
        encryptionKey = ek; integrityKey = ak
        guard let enc = WiresharkNames.espEncryption(f[4], keyMaterial: ek.count) else { throw bad("unknown encryption \"\(f[4])\"") }
        encryption = enc
        guard let integ = WiresharkNames.espIntegrity(f[6], keyLength: ak.count) else { throw bad("unknown authentication \"\(f[6])\"") }
        integrity = enc.isAEAD ? [nil] : integ
        line = UAT.quote(Array(f.prefix(8)))
    }

    /// Builds a row from one direction of a Child SA (as `WiresharkESPSA.row` writes it).
    public init(sa: ESPSecurityAssociation, source: String, destination: String) throws {
        let text = WiresharkESPSA.row(sa: sa, source: source, destination: destination)
        guard let f = UAT.fields(Substring(text)) else { throw KeyFileError.badRow(file: "esp_sa", line: 0, detail: "unparseable row") }
        try self.init(fields: f)
    }

    /// Whether a packet between these outer addresses may use this row.
    public func matches(source s: String, destination d: String) -> Bool {
        (source == "*" || source.isEmpty || source == s) && (destination == "*" || destination.isEmpty || destination == d)
    }

    /// Inbound ESP SAs (one per integrity candidate) that can open packets with this SPI.
    public func makeSAs() -> [ESPSecurityAssociation] {
        integrity.compactMap { i in
            guard let t = try? ESPTransform(encryption: encryption, encryptionKey: encryptionKey, integrity: i, integrityKey: integrityKey) else { return nil }
            return ESPSecurityAssociation(spi: spi, direction: .inbound, transform: t, replayWindow: 4096)
        }
    }
}

/// The Wireshark 4.x UAT names of algorithms, read back (inverse of `WiresharkIKEv2Table` and
/// `WiresharkESPSA`). Key lengths come from the key size where the name leaves them out.
enum WiresharkNames {
    static func ikeEncryption(_ n: String, keyMaterial: Int) -> EncryptionAlgorithm? {
        if n.hasPrefix("NULL") { return .ENCR_NULL }
        if n.hasPrefix("3DES") { return .ENCR_3DES }
        func bits(_ prefix: String) -> Int? {
            guard n.hasPrefix(prefix) else { return nil }
            return Int(n.dropFirst(prefix.count).prefix { $0.isNumber })
        }
        if let b = bits("AES-CBC-") { return .ENCR_AES_CBC(keyBits: b) }
        if let b = bits("AES-CTR-") { return .ENCR_AES_CTR(keyBits: b) }
        if let b = bits("AES-GCM-") {
            if n.contains("8 octet") { return .ENCR_AES_GCM_8(keyBits: b) }
            if n.contains("12 octet") { return .ENCR_AES_GCM_12(keyBits: b) }
            return .ENCR_AES_GCM_16(keyBits: b)
        }
        if let b = bits("BLOWFISH-CBC-") ?? (n.hasPrefix("BLOWFISH") ? keyMaterial * 8 : nil) { return .ENCR_BLOWFISH(keyBits: b) }
        return nil
    }

    static func ikeIntegrity(_ n: String, keyLength: Int) -> IntegrityAlgorithm?? {
        if n.hasPrefix("NONE") { return .some(nil) }
        if n.hasPrefix("HMAC_MD5_96") { return .AUTH_HMAC_MD5_96 }
        if n.hasPrefix("HMAC_SHA1_96") { return .AUTH_HMAC_SHA1_96 }
        if n.hasPrefix("HMAC_SHA2_256_128") { return .AUTH_HMAC_SHA2_256_128 }
        if n.hasPrefix("HMAC_SHA2_384_192") { return .AUTH_HMAC_SHA2_384_192 }
        if n.hasPrefix("HMAC_SHA2_512_256") { return .AUTH_HMAC_SHA2_512_256 }
        if n.hasPrefix("HMAC_MD5_128") { return .AUTH_HMAC_MD5_128 }
        if n.hasPrefix("HMAC_SHA1_160") { return .AUTH_HMAC_SHA1_160 }
        if n.hasPrefix("ANY 96") { return .AUTH_AES_XCBC_96 }
        return nil
    }

    static func espEncryption(_ n: String, keyMaterial: Int) -> EncryptionAlgorithm? {
        if n == "NULL" || n.hasPrefix("NULL") { return .ENCR_NULL }
        if n.hasPrefix("TripleDES") { return .ENCR_3DES }
        if n.hasPrefix("AES-CBC") { return .ENCR_AES_CBC(keyBits: keyMaterial * 8) }
        if n.hasPrefix("AES-CTR") { return .ENCR_AES_CTR(keyBits: (keyMaterial - 4) * 8) }
        if n.hasPrefix("AES-GCM") {
            let b = (keyMaterial - 4) * 8
            if n.contains("8 octet") { return .ENCR_AES_GCM_8(keyBits: b) }
            if n.contains("12 octet") { return .ENCR_AES_GCM_12(keyBits: b) }
            return .ENCR_AES_GCM_16(keyBits: b)
        }
        if n.hasPrefix("BLOWFISH") { return .ENCR_BLOWFISH(keyBits: keyMaterial * 8) }
        return nil
    }

    static func espIntegrity(_ n: String, keyLength: Int) -> [IntegrityAlgorithm?]? {
        if n == "NULL" || n.isEmpty { return [nil] }
        if n.hasPrefix("HMAC-SHA-1-96") { return [.AUTH_HMAC_SHA1_96] }
        if n.hasPrefix("HMAC-MD5-96") { return [.AUTH_HMAC_MD5_96] }
        if n.hasPrefix("HMAC-SHA-256-128") { return [.AUTH_HMAC_SHA2_256_128] }
        if n.hasPrefix("HMAC-SHA-384-192") { return [.AUTH_HMAC_SHA2_384_192] }
        if n.hasPrefix("HMAC-SHA-512-256") { return [.AUTH_HMAC_SHA2_512_256] }
        if n.hasPrefix("ANY 96") { return [.AUTH_AES_XCBC_96, .AUTH_AES_CMAC_96, .AUTH_HMAC_SHA1_96, .AUTH_HMAC_MD5_96] }
        if n.hasPrefix("ANY 128") { return [.AUTH_HMAC_MD5_128, .AUTH_HMAC_SHA2_256_128] }
        if n.hasPrefix("ANY 160") { return [.AUTH_HMAC_SHA1_160] }
        return nil
    }
}

/// The keys of a capture: the two Wireshark UAT tables, read from files, a directory, or any
/// log text that contains such rows (our ePDG's key-log lines quote them verbatim).
public struct KeyTables: Sendable {
    public var ike: [IKEv2KeyRow] = []
    public var esp: [ESPSARow] = []
    /// Rows that could not be used, with the reason (reported, not fatal).
    public var problems: [String] = []

    public init(ike: [IKEv2KeyRow] = [], esp: [ESPSARow] = []) { self.ike = ike; self.esp = esp }

    /// Reads `ikev2_decryption_table` and `esp_sa` from `dir` or `dir/wireshark` (either may be absent).
    public static func load(directory dir: String) -> KeyTables {
        var t = KeyTables()
        for base in [dir, dir + "/wireshark"] {
            if let s = try? String(contentsOfFile: base + "/ikev2_decryption_table", encoding: .utf8) { t.addIKEv2Table(s, file: base + "/ikev2_decryption_table") }
            if let s = try? String(contentsOfFile: base + "/esp_sa", encoding: .utf8) { t.addESPTable(s, file: base + "/esp_sa") }
        }
        return t
    }

    public mutating func addIKEv2Table(_ text: String, file: String = "ikev2_decryption_table") {
        for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let l = line.trimmingCharacters(in: .whitespaces)
            if l.isEmpty || l.hasPrefix("#") { continue }
            guard let f = UAT.fields(Substring(l)) else { problems.append("\(file):\(n + 1): not a UAT row"); continue }
            do { add(try IKEv2KeyRow(fields: f)) } catch { problems.append("\(file):\(n + 1): \(error)") }
        }
    }

    public mutating func addESPTable(_ text: String, file: String = "esp_sa") {
        for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let l = line.trimmingCharacters(in: .whitespaces)
            if l.isEmpty || l.hasPrefix("#") { continue }
            guard let f = UAT.fields(Substring(l)) else { problems.append("\(file):\(n + 1): not a UAT row"); continue }
            do { add(try ESPSARow(fields: f)) } catch { problems.append("\(file):\(n + 1): \(error)") }
        }
    }

    /// Finds rows quoted inside log lines: a run of 8 quoted fields whose shape is an IKEv2
    /// row (16-hex-digit SPIs) or an ESP row ("IPv4"/"IPv6" first).
    public mutating func addFromLog(_ text: String) {
        for line in text.split(separator: "\n") {
            // A row starts at a quote or at a word start; try each such place until one parses.
            var i = line.startIndex
            var previous: Character = " "
            while i < line.endIndex {
                let c = line[i]
                if c == "\"" || (c.isHexDigit && (previous == " " || previous == ":" || previous == "=")) {
                    if let f = UAT.fields(line[i...]), f.count == 8 {
                        if f[0] == "IPv4" || f[0] == "IPv6", let r = try? ESPSARow(fields: f) { add(r); break }
                        if f[0].count == 16, let r = try? IKEv2KeyRow(fields: f) { add(r); break }
                    }
                }
                previous = c
                i = line.index(after: i)
            }
        }
    }

    public mutating func add(_ r: IKEv2KeyRow) {
        if !ike.contains(where: { $0.spiI == r.spiI && $0.spiR == r.spiR }) { ike.append(r) }
    }
    public mutating func add(_ r: ESPSARow) {
        if !esp.contains(where: { $0.spi == r.spi && $0.source == r.source && $0.destination == r.destination }) { esp.append(r) }
    }

    public func ikeRow(spiI: UInt64, spiR: UInt64) -> IKEv2KeyRow? { ike.first { $0.spiI == spiI && $0.spiR == spiR } }

    /// The `ikev2_decryption_table` text.
    public var ikev2TableText: String { ike.map(\.line).map { $0 + "\n" }.joined() }
    /// The `esp_sa` text.
    public var espTableText: String { esp.map(\.line).map { $0 + "\n" }.joined() }

    /// Writes both files into `dir` (created if needed).
    public func write(directory dir: String) throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try ikev2TableText.write(toFile: dir + "/ikev2_decryption_table", atomically: true, encoding: .utf8)
        try espTableText.write(toFile: dir + "/esp_sa", atomically: true, encoding: .utf8)
    }
}

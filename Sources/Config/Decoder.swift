/// Collects the errors and ignored keys of one typed decode, so a user sees them all at once.
final class Decoder {
    var errors: [ConfigError] = []
    var warnings: [ConfigWarning] = []
    private var reported: Set<String> = []
    /// Directory of the top config file, for defaults such as `sqn_db`.
    let configDirectory: String

    init(configDirectory: String) {
        self.configDirectory = configDirectory
    }

    func fail(_ kind: ConfigError.Kind, at location: SourceLocation?, _ message: String) {
        errors.append(ConfigError(kind, at: location, message))
    }

    /// Records a key VoWiFi Core does not use, once per key path.
    func ignore(pattern: String, at location: SourceLocation, note: String = "") {
        guard reported.insert(pattern).inserted else { return }
        warnings.append(ConfigWarning(path: pattern, location: location,
                                      message: "ignored '\(pattern)': not used by VoWiFi Core\(note)"))
    }

    /// Throws the first error, carrying the others.
    func check() throws {
        guard var first = errors.first else { return }
        first.more = Array(errors.dropFirst())
        throw first
    }
}

/// Reads the members of one object with types, ranges and defaults, and afterwards reports
/// the keys nobody asked for.
final class ObjectReader {
    let object: ConfigObject
    /// `epdg`, `pdn_list[1]`: used in messages.
    let path: String
    /// `pdn_list[]`: used to report an ignored key once for all entries.
    let pattern: String
    let location: SourceLocation
    let decoder: Decoder
    private(set) var known: [String] = []

    init(_ object: ConfigObject, at location: SourceLocation, path: String, pattern: String, decoder: Decoder) {
        self.object = object
        self.location = location
        self.path = path
        self.pattern = pattern
        self.decoder = decoder
    }

    /// A reader over `value` if it is an object; records a type error otherwise.
    convenience init?(_ value: ConfigValue, path: String, pattern: String, decoder: Decoder) {
        guard let o = value.object else {
            decoder.fail(.type, at: value.location, "\(path): expected an object, found \(value.typeName) \(value)")
            return nil
        }
        self.init(o, at: value.location, path: path, pattern: pattern, decoder: decoder)
    }

    func fieldPath(_ key: String) -> String { path.isEmpty ? key : path + "." + key }
    func fieldPattern(_ key: String) -> String { pattern.isEmpty ? key : pattern + "." + key }

    /// The raw value; marks `key` as one this object implements.
    func raw(_ key: String) -> ConfigValue? {
        if !known.contains(key) { known.append(key) }
        return object[key]
    }

    func typeError(_ key: String, _ v: ConfigValue, _ expected: String) {
        decoder.fail(.type, at: v.location, "\(fieldPath(key)): expected \(expected), found \(v.typeName) \(v)")
    }

    func string(_ key: String) -> String? {
        guard let v = raw(key) else { return nil }
        guard let s = v.string else { typeError(key, v, "a string"); return nil }
        return s
    }

    func bool(_ key: String) -> Bool? {
        guard let v = raw(key) else { return nil }
        guard let b = v.bool else { typeError(key, v, "a boolean (true, false, 0 or 1)"); return nil }
        return b
    }

    func int(_ key: String, _ range: ClosedRange<Int64>, unit: String = "") -> Int? {
        guard let v = raw(key) else { return nil }
        return checkedInt(v, key: fieldPath(key), range, unit: unit)
    }

    func checkedInt(_ v: ConfigValue, key: String, _ range: ClosedRange<Int64>, unit: String = "") -> Int? {
        guard let i = v.integer else {
            decoder.fail(.type, at: v.location, "\(key): expected an integer, found \(v.typeName) \(v)")
            return nil
        }
        guard range.contains(i) else {
            decoder.fail(.range, at: v.location, "\(key) = \(i) is out of range \(range.lowerBound)...\(range.upperBound)\(unit)")
            return nil
        }
        return Int(i)
    }

    func double(_ key: String, _ range: ClosedRange<Double>) -> Double? {
        guard let v = raw(key) else { return nil }
        guard let d = v.double else { typeError(key, v, "a number"); return nil }
        guard range.contains(d) else {
            decoder.fail(.range, at: v.location, "\(fieldPath(key)) = \(v) is out of range \(range.lowerBound)...\(range.upperBound)")
            return nil
        }
        return d
    }

    /// A string, or an array of strings (as `dns_addr`, `p_cscf_addr`, `access_point_name`).
    func strings(_ key: String) -> [(String, SourceLocation)]? {
        guard let v = raw(key) else { return nil }
        if let s = v.string { return [(s, v.location)] }
        guard let a = v.array else { typeError(key, v, "a string or an array of strings"); return nil }
        var out: [(String, SourceLocation)] = []
        for (i, e) in a.enumerated() {
            guard let s = e.string else {
                decoder.fail(.type, at: e.location, "\(fieldPath(key))[\(i)]: expected a string, found \(e.typeName) \(e)")
                continue
            }
            out.append((s, e.location))
        }
        return out
    }

    /// One of the raw values of `E`, with the allowed list and a suggestion on a miss.
    func choice<E: RawRepresentable & CaseIterable>(_ key: String, _ type: E.Type) -> E? where E.RawValue == String {
        guard let v = raw(key) else { return nil }
        return checkedChoice(v, key: fieldPath(key), type)
    }

    func checkedChoice<E: RawRepresentable & CaseIterable>(_ v: ConfigValue, key: String, _ type: E.Type,
                                                           allowed: [E]? = nil) -> E? where E.RawValue == String {
        let names = (allowed ?? Array(E.allCases)).map(\.rawValue)
        guard let s = v.string else {
            decoder.fail(.type, at: v.location, "\(key): expected one of \(names.map(quote).joined(separator: ", ")), found \(v.typeName) \(v)")
            return nil
        }
        guard let e = E(rawValue: s), names.contains(s) else {
            decoder.fail(.invalidValue, at: v.location,
                         "\(key): \(quote(s)) is not one of \(names.map(quote).joined(separator: ", "))\(Suggest.hint(s, in: names))")
            return nil
        }
        return e
    }

    /// A hex string of exactly `count` bytes (an optional `0x` prefix is accepted).
    func hex(_ key: String, count: Int) -> [UInt8]? {
        guard let v = raw(key) else { return nil }
        return checkedHex(v, key: fieldPath(key), count: count)
    }

    func checkedHex(_ v: ConfigValue, key: String, count: Int?) -> [UInt8]? {
        guard var s = v.string else {
            decoder.fail(.type, at: v.location, "\(key): expected a hex string, found \(v.typeName) \(v)")
            return nil
        }
        if s.hasPrefix("0x") || s.hasPrefix("0X") { s.removeFirst(2) }
        var out: [UInt8] = []
        var hi: UInt8?
        for (i, b) in s.utf8.enumerated() {
            guard let d = hexValue(b) else {
                decoder.fail(.invalidValue, at: v.location, "\(key): \(quote(s)) is not hex: character \(i + 1) is '\(String(UnicodeScalar(b)))'")
                return nil
            }
            if let h = hi { out.append(h << 4 | d); hi = nil } else { hi = d }
        }
        guard hi == nil else {
            decoder.fail(.invalidValue, at: v.location, "\(key): \(quote(s)) has an odd number of hex digits (\(s.utf8.count))")
            return nil
        }
        if let count, out.count != count {
            decoder.fail(.invalidValue, at: v.location, "\(key): expected \(count) bytes (\(count * 2) hex digits), found \(out.count) bytes")
            return nil
        }
        return out
    }

    func address(_ key: String, ipv6: Bool? = nil) -> ConfigIPAddress? {
        guard let v = raw(key) else { return nil }
        return checkedAddress(v, key: fieldPath(key), ipv6: ipv6)
    }

    func checkedAddress(_ v: ConfigValue, key: String, ipv6: Bool? = nil) -> ConfigIPAddress? {
        guard let s = v.string else {
            decoder.fail(.type, at: v.location, "\(key): expected an IP address string, found \(v.typeName) \(v)")
            return nil
        }
        guard let a = ConfigIPAddress(s) else {
            decoder.fail(.invalidValue, at: v.location, "\(key): \(quote(s)) is not an IPv4 or IPv6 address")
            return nil
        }
        if let ipv6, a.isIPv6 != ipv6 {
            decoder.fail(.invalidValue, at: v.location, "\(key): \(quote(s)) must be an \(ipv6 ? "IPv6" : "IPv4") address")
            return nil
        }
        return a
    }

    func endpoint(_ key: String, defaultPort: UInt16) -> ConfigEndpoint? {
        guard let v = raw(key) else { return nil }
        return checkedEndpoint(v, key: fieldPath(key), defaultPort: defaultPort)
    }

    func checkedEndpoint(_ v: ConfigValue, key: String, defaultPort: UInt16) -> ConfigEndpoint? {
        guard let s = v.string else {
            decoder.fail(.type, at: v.location, "\(key): expected an address string such as \"127.0.0.1:\(defaultPort)\", found \(v.typeName) \(v)")
            return nil
        }
        guard let e = ConfigEndpoint(s, defaultPort: defaultPort) else {
            decoder.fail(.invalidValue, at: v.location,
                         "\(key): \(quote(s)) is not an IP address with an optional port (\"192.0.2.1:\(defaultPort)\", \"[2001:db8::1]:\(defaultPort)\")")
            return nil
        }
        return e
    }

    func array(_ key: String) -> [ConfigValue]? {
        guard let v = raw(key) else { return nil }
        guard let a = v.array else { typeError(key, v, "an array"); return nil }
        return a
    }

    func required<T>(_ value: T?, _ key: String) -> T? {
        if value == nil && object[key] == nil {
            decoder.fail(.missing, at: location, "\(path.isEmpty ? "the config" : path): missing required property '\(key)'")
        }
        return value
    }

    /// Inside an object VoWiFi Core implements: a key that is neither implemented nor a
    /// documented callbox key is an error (most likely a typo); documented ones are ignored.
    func finishStrict(what: String, documented: Set<String>) {
        for m in object.members where !known.contains(m.name) {
            if documented.contains(m.name) {
                decoder.ignore(pattern: fieldPattern(m.name), at: m.nameLocation)
            } else {
                decoder.fail(.unknownKey, at: m.nameLocation,
                             "unknown \(what) '\(m.name)'\(Suggest.hint(m.name, in: known + documented.sorted()))")
            }
        }
    }

    /// At the top level: every unused key is reported as ignored (with a hint if it looks
    /// like a misspelt key we do use).
    func finishLoose() {
        for m in object.members where !known.contains(m.name) {
            decoder.ignore(pattern: fieldPattern(m.name), at: m.nameLocation, note: Suggest.hint(m.name, in: known))
        }
    }
}

import Foundation

/// `com_auth` of the MME or IMS config: the remote API asks every client to prove it knows
/// the password (a challenge answered with HMAC-SHA256) before serving it.
///
///     com_auth: { password: "secret" },           // or passfile: "api.pass"
public struct ComAuthConfig: Sendable, Equatable {
    /// From `password`, or the content of `passfile` without its trailing newline.
    public var password: String
    public var location: SourceLocation

    public init(password: String, location: SourceLocation = SourceLocation(file: "<code>", line: 0, column: 0)) {
        self.password = password
        self.location = location
    }

    /// Decodes `com_auth`; nil when it has errors (recorded in `decoder`). A relative
    /// `passfile` resolves against the config's directory; it is read now, so a missing file
    /// is a config error with its line rather than a refused client later.
    static func decode(_ value: ConfigValue, decoder: Decoder) -> ComAuthConfig? {
        guard let r = ObjectReader(value, path: "com_auth", pattern: "com_auth", decoder: decoder) else { return nil }
        let password = r.string("password"), passfile = r.string("passfile")
        // `unsecure` is documented (it relaxes what the callbox accepts); we always authenticate.
        r.finishStrict(what: "com_auth parameter", documented: ["unsecure"])
        var result: String?
        switch (password, passfile) {
        case (nil, nil):
            if r.raw("password") == nil && r.raw("passfile") == nil {
                decoder.fail(.missing, at: value.location, "com_auth: missing 'password' or 'passfile'")
            }
        case (.some, .some):
            decoder.fail(.invalidValue, at: r.raw("passfile")?.location, "com_auth: give either password or passfile, not both")
        case let (p?, nil):
            result = p
        case let (nil, f?):
            let path = joinPath(decoder.configDirectory, f)
            guard let data = FileManager.default.contents(atPath: path) else {
                decoder.fail(.invalidValue, at: r.raw("passfile")?.location, "com_auth.passfile: cannot read \(quote(path))")
                return nil
            }
            var text = String(decoding: data, as: UTF8.self)
            while text.last == "\n" || text.last == "\r" { text.removeLast() }
            result = text
        }
        guard let result else { return nil }
        guard !result.isEmpty else {
            decoder.fail(.invalidValue, at: r.raw(passfile != nil ? "passfile" : "password")?.location,
                         "com_auth: the password is empty\(passfile.map { " (passfile \(quote($0)))" } ?? "")")
            return nil
        }
        return ComAuthConfig(password: result, location: value.location)
    }
}

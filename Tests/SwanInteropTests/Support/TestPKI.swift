import Foundation

/// A throw-away CA and end-entity certificates made with the openssl CLI (RSA-2048: Debian's
/// charon has no openssl plugin, so its gmp plugin must handle every key).
struct TestPKI {
    let dir: String
    var caPEM: String { dir + "/ca.pem" }

    init(dir: String, caName: String = "Swan Test CA") throws {
        self.dir = dir
        try Shell.must(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", dir + "/ca.key", "-out", caPEM,
                        "-days", "30", "-subj", "/C=XX/O=VoWiFi Test/CN=\(caName)",
                        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
    }

    /// Issues `name` (CN and subjectAltName DNS) signed by the CA: returns (cert.pem, key.pem).
    @discardableResult
    func issue(_ name: String) throws -> (cert: String, key: String) {
        let base = dir + "/" + name
        try Shell.must(["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", base + ".key", "-out", base + ".csr",
                        "-subj", "/C=XX/O=VoWiFi Test/CN=\(name)"])
        try "subjectAltName=DNS:\(name)\nbasicConstraints=CA:FALSE\n".write(toFile: base + ".ext", atomically: true, encoding: .utf8)
        try Shell.must(["openssl", "x509", "-req", "-in", base + ".csr", "-CA", caPEM, "-CAkey", dir + "/ca.key", "-CAcreateserial",
                        "-out", base + ".pem", "-days", "30", "-extfile", base + ".ext"])
        return (base + ".pem", base + ".key")
    }
}

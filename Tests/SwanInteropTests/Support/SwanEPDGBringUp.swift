import Foundation
import Glibc
import XCTest

/// The steps every `SwanEPDGTestCase` test takes to bring its ePDG and charon up, and to start
/// charon's "ims" connection.
extension SwanEPDGTestCase {
    /// Skips without root, the tools or the strongSwan `plugins`; in the ePDG child process runs
    /// the ePDG and ends there. Otherwise makes `dir` with a PKI that issued "ims" and `ueName`.
    func preparePKI(dirTag: String, ueName: String, plugins: [String] = []) throws -> TestPKI {
        try requireInteropEnvironment(tools: ["charon", "swanctl", "ip", "openssl", "python3", "unshare", "timeout"])
        if let child = EPDGChild.childDirectory {
            try EPDGChild.run(dir: child)
            throw XCTSkip("ePDG child role done")
        }
        for p in plugins {
            let path = "/usr/lib/ipsec/plugins/libstrongswan-\(p).so"
            guard access(path, F_OK) == 0 else { throw XCTSkip("strongSwan's \(p) plugin is missing (\(path))") }
        }
        dir = try makeTempDir(dirTag)
        try FileManager.default.createDirectory(atPath: dir + "/pki", withIntermediateDirectories: true)
        let pki = try TestPKI(dir: dir + "/pki")
        try pki.issue("ims")
        try pki.issue(ueName)
        return pki
    }

    /// Namespaces "a" and "b", a capture of the outer interface (when `wantCapture` and tshark
    /// is installed), and the ePDG (`dir`'s mme.cfg and ims.cfg) in "a".
    func startEPDG(netTag: String, testID: String, capture wantCapture: Bool) throws -> NetnsPair {
        let net = try NetnsPair(tag: netTag)
        self.net = net
        if wantCapture, Shell.which("tshark") != nil {
            capture = try CaptureDecode.start(ns: net.a, iface: net.vethA, path: dir + "/outer.pcapng", log: dir + "/tshark.out", peer: NetnsPair.addressB)
        }
        epdg = try EPDGChild.start(ns: net.a, dir: dir, testID: testID)
        return net
    }

    /// charon in `net.b` (kernel-libipsec; its own IKE packets marked off the tunnel) with the
    /// base plugins and `plugins`, trusting `pki`'s CA, holding `ueName`'s certificate and key,
    /// loaded with `swanctlConf`.
    func startCharon(in net: NetnsPair, plugins: [String], pluginConfig: [String] = [], pki: TestPKI, ueName: String,
                     swanctlConf: String) throws {
        let c = try Charon(ns: net.b, dir: dir + "/charon",
                           plugins: ["random", "nonce", "aes", "sha1", "sha2", "hmac", "kdf", "xcbc", "gmp", "x509", "pubkey", "pkcs1", "pkcs8",
                                     "pem", "revocation", "constraints", "kernel-libipsec", "kernel-netlink", "socket-default", "vici",
                                     "attr"] + plugins,
                           pluginConfig: (["kernel-netlink { fwmark = !0x42 }", "socket-default { fwmark = 0x42 }"] + pluginConfig)
                               .joined(separator: "\n"))
        charon = c
        try FileManager.default.copyItem(atPath: pki.caPEM, toPath: c.dir + "/swanctl/x509ca/ca.pem")
        try FileManager.default.copyItem(atPath: pki.dir + "/\(ueName).pem", toPath: c.dir + "/swanctl/x509/\(ueName).pem")
        try FileManager.default.copyItem(atPath: pki.dir + "/\(ueName).key", toPath: c.dir + "/swanctl/private/\(ueName).key")
        try c.start()
        try c.load(swanctlConf: swanctlConf)
    }

    /// `swanctl --initiate` of the "ims" child, which must succeed: charon's `--list-sas`
    /// afterwards, nil (the failure recorded) when it did not come up.
    func initiateIMS(file: StaticString = #filePath, line: UInt = #line) -> String? {
        guard let charon else { return nil }
        let up = charon.swanctl("--initiate", ["--child", "ims", "--timeout", "20"], timeout: 30)
        XCTAssertEqual(up.status, 0, "swanctl --initiate:\n\(up.output)\n\(charon.log.suffix(4000))\n\(Shell.read(dir + "/vowifi.log").suffix(4000))",
                       file: file, line: line)
        return up.status == 0 ? charon.swanctl("--list-sas").output : nil
    }

    /// `swanctl --initiate` of the "ims" child, which must fail: the ePDG's log afterwards.
    func initiateIMSRefused(file: StaticString = #filePath, line: UInt = #line) -> String {
        let up = charon?.swanctl("--initiate", ["--child", "ims", "--timeout", "15"], timeout: 25)
        XCTAssertNotNil(up, "no charon", file: file, line: line)
        XCTAssertNotEqual(up?.status, 0, up?.output ?? "", file: file, line: line)
        return Shell.read(dir + "/vowifi.log")
    }
}

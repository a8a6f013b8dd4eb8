import Foundation
import Glibc
import XCTest

/// RFC 4739 against a real peer: strongSwan as the initiator authenticates round 1 with its
/// certificate (`local-1 { auth = pubkey }`) and round 2 with `local-2 { auth = eap-md5 }` or
/// `eap-gtc`, toward our ePDG with `additional_ue_auth_type` chap or pap and the PDN's
/// username/password. Namespace "a" runs our core (TUN), "b" runs charon (kernel-libipsec).
final class StrongSwanSecondAuthTests: SwanEPDGTestCase {
    static let pcscf4 = "198.18.1.1"
    static let user = "pdnuser", password = "pdn-Secret-1"

    static func mmeConfig(dir: String, method: String) -> String {
        SwanEPDGConfig.mme(dir: dir, epdg: """
            additional_ue_auth_type: "\(method)",
            """, pdn: """
            first_ip_addr: "198.18.0.2",
            last_ip_addr: "198.18.0.254",
            dns_addr: ["198.18.1.53"],
            p_cscf_addr: ["\(pcscf4)"],
            username: "\(user)",
            password: "\(password)",
            """)
    }

    /// `eapMethod` nil: no `local-2`, so strongSwan does one round and sends no ANOTHER_AUTH_FOLLOWS.
    static func swanctlConf(ueName: String, eapMethod: String?, secret: String) -> String {
        let round2 = eapMethod.map { "local-2 {\n      auth = \($0)\n      id = \(user)\n    }" } ?? ""
        return """
        connections {
          epdg {
            version = 2
            remote_addrs = \(NetnsPair.addressA)
            vips = 0.0.0.0
            encap = yes
            proposals = aes128-sha256-modp2048
            send_certreq = yes
            local-1 {
              auth = pubkey
              certs = \(ueName).pem
              id = \(ueName)
            }
            \(round2)
            remote {
              auth = pubkey
              id = ims
            }
            children {
              ims {
                local_ts = dynamic
                remote_ts = 0.0.0.0/0
                esp_proposals = aes128-sha256
                start_action = none
              }
            }
          }
        }
        secrets {
          eap-pdn {
            id = \(user)
            secret = "\(secret)"
          }
        }
        """
    }

    func bringUp(testID: String, method: String, eapMethod: String?, secret: String) throws {
        let ueName = "ue.swan.test"
        let pki = try preparePKI(dirTag: "2nd", ueName: ueName, plugins: eapMethod.map { [$0] } ?? [])
        try FileManager.default.copyItem(atPath: pki.caPEM, toPath: dir + "/peer-ca.pem")
        try Self.mmeConfig(dir: dir, method: method).write(toFile: dir + "/mme.cfg", atomically: true, encoding: .utf8)
        try StrongSwanInitiatorTests.imsConfig(dir: dir).write(toFile: dir + "/ims.cfg", atomically: true, encoding: .utf8)
        try Probes.install(in: dir)

        let net = try startEPDG(netTag: "m", testID: testID, capture: true)
        try startCharon(in: net, plugins: ["md5"] + (eapMethod.map { [$0] } ?? []), pki: pki, ueName: ueName,
                        swanctlConf: Self.swanctlConf(ueName: ueName, eapMethod: eapMethod, secret: secret))
    }

    /// Certificate round, then the PDN round; the SA, the virtual IP from CFG_REPLY and the
    /// Child SA come up, and a ping crosses the tunnel to the P-CSCF address.
    func secondAuthAttach(testID: String, method: String, eapMethod: String, swanMethodName: String) throws {
        try bringUp(testID: "StrongSwanSecondAuthTests/\(testID)", method: method, eapMethod: eapMethod, secret: Self.password)
        guard let net, let charon, let sas = initiateIMS() else { return }
        let vlog = { Shell.read(self.dir + "/vowifi.log") }
        XCTAssertTrue(sas.contains("ESTABLISHED"), sas)
        XCTAssertTrue(sas.contains("INSTALLED"), sas)
        let vip4 = StrongSwanInitiatorTests.firstMatch(#"(198\.18\.0\.\d+)/32"#, in: sas)
        XCTAssertNotNil(vip4, "no virtual IP from CFG_REPLY in:\n\(sas)")
        // strongSwan: the ePDG offered multiple auth, both rounds ran, the EAP method gave no MSK.
        let clog = charon.log
        XCTAssertNotNil(StrongSwanInitiatorTests.firstMatch(#"parsed IKE_SA_INIT response 0 \[[^\]]*N\(MULT_AUTH\)"#, in: clog), "IKE_SA_INIT response without MULTIPLE_AUTH_SUPPORTED:\n\(clog.suffix(4000))")
        XCTAssertNotNil(StrongSwanInitiatorTests.firstMatch(#"generating IKE_AUTH request 1 \[[^\]]*N\(AUTH_FOLLOWS\)"#, in: clog), "strongSwan sent no ANOTHER_AUTH_FOLLOWS:\n\(clog.suffix(4000))")
        XCTAssertTrue(clog.contains("EAP method \(swanMethodName) succeeded, no MSK established"), clog.suffix(4000).description)
        XCTAssertTrue(clog.contains("authentication of 'ims' with EAP successful"), clog.suffix(4000).description)
        // Our ePDG: the right method, user and APN; the decoded-message log names the EAP type.
        let eapName = eapMethod == "eap-md5" ? "EAP-MD5-Challenge" : "EAP-GTC"
        XCTAssertTrue(vlog().contains("IKE_AUTH response #2 [EAP(Request/\(eapName))]"), vlog().suffix(4000).description)
        XCTAssertTrue(vlog().contains("IKE_AUTH request #3 [EAP(Response/\(eapName))]"), vlog().suffix(4000).description)
        XCTAssertTrue(vlog().contains("second authentication success: IMSI ue.swan.test APN ims"), vlog().suffix(4000).description)
        XCTAssertTrue(vlog().contains("user '\(Self.user)'"), vlog().suffix(4000).description)
        XCTAssertTrue(Shell.waitUntil(3) { Shell.read(self.dir + "/status").contains("ikeSAs=1 childSAs=1") }, Shell.read(dir + "/status"))
        let r = Shell.run(NetnsPair.exec(net.b, ["python3", dir + "/ping.py", Self.pcscf4, "3"]), timeout: 30)
        XCTAssertEqual(r.status, 0, "ping through the tunnel: \(r.output)")
        XCTAssertTrue(vlog().contains("IKE SA established for IMSI ue.swan.test APN ims inner \(vip4 ?? "-") PDN user '\(Self.user)'"), vlog().suffix(3000).description)

        // Wireshark's dissector, with the ePDG's key files, opens the SK payloads of both rounds:
        // the EAP type of round 2 and the AUTH (shared key MIC) that follows, nothing malformed.
        guard let cap = capture else { return }
        let (rows, text) = try CaptureDecode.rows(dir: dir, capture: cap, charon: charon, filter: "isakmp",
                                                  fields: ["eap.type", "isakmp.auth.method", "_ws.malformed"])
        let eapTypes = Set(rows.compactMap { $0.first }.filter { !$0.isEmpty })
        XCTAssertTrue(eapTypes.contains(eapMethod == "eap-md5" ? "4" : "6"), "decrypted EAP types: \(eapTypes)\n\(text.prefix(2000))")
        XCTAssertTrue(Set(rows.compactMap { $0.count > 1 ? $0[1] : nil }).isSuperset(of: ["14", "2"]), "AUTH methods (digital signature in round 1, shared key MIC in round 2):\n\(text.prefix(2000))")
        XCTAssertFalse(rows.contains { $0.count > 2 && !$0[2].isEmpty }, "malformed after decryption:\n\(text.prefix(2000))")
    }

    func testStrongSwanCertificateThenEAPMD5() throws {
        try secondAuthAttach(testID: "testStrongSwanCertificateThenEAPMD5", method: "chap", eapMethod: "eap-md5", swanMethodName: "EAP_MD5")
    }

    func testStrongSwanCertificateThenEAPGTC() throws {
        try secondAuthAttach(testID: "testStrongSwanCertificateThenEAPGTC", method: "pap", eapMethod: "eap-gtc", swanMethodName: "EAP_GTC")
    }

    /// A wrong PDN password: EAP-Failure and AUTHENTICATION_FAILED, no SA on either side.
    func testStrongSwanWrongPDNPasswordFails() throws {
        try bringUp(testID: "StrongSwanSecondAuthTests/testStrongSwanWrongPDNPasswordFails", method: "chap", eapMethod: "eap-md5",
                    secret: "not-the-password")
        guard let charon else { return }
        let vlog = initiateIMSRefused()
        XCTAssertTrue(vlog.contains("second authentication failed: IMSI ue.swan.test APN ims EAP-MD5-Challenge (chap) user '\(Self.user)': password mismatch"),
                      vlog.suffix(4000).description)
        XCTAssertTrue(charon.log.contains("received EAP_FAILURE") || charon.log.contains("AUTHENTICATION_FAILED"), charon.log.suffix(4000).description)
        XCTAssertFalse(charon.swanctl("--list-sas").output.contains("ESTABLISHED"))
        XCTAssertTrue(Shell.waitUntil(3) { Shell.read(self.dir + "/status").contains("ikeSAs=0 childSAs=0") }, Shell.read(dir + "/status"))
    }

    /// strongSwan configured for the certificate round only: it completes round 1 without
    /// ANOTHER_AUTH_FOLLOWS, and the ePDG, which needs the PDN round, answers AUTHORIZATION_REJECTED.
    func testStrongSwanWithoutSecondRoundIsRejected() throws {
        try bringUp(testID: "StrongSwanSecondAuthTests/testStrongSwanWithoutSecondRoundIsRejected", method: "pap", eapMethod: nil,
                    secret: Self.password)
        guard let charon else { return }
        let vlog = initiateIMSRefused()
        XCTAssertTrue(vlog.contains("IMSI ue.swan.test APN ims: the ePDG requires a second authentication (EAP-GTC (pap)), but the phone sent no ANOTHER_AUTH_FOLLOWS"),
                      vlog.suffix(4000).description)
        XCTAssertTrue(charon.log.contains("received (9003) notify error"), "strongSwan did not get AUTHORIZATION_REJECTED (9003):\n\(charon.log.suffix(3000))")
        XCTAssertFalse(charon.swanctl("--list-sas").output.contains("ESTABLISHED"))
    }
}

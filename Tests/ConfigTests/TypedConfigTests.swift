import Foundation
import XCTest
@testable import Config

/// Typed decoding: defaults, ranges, enums, unknown keys, from in-memory configs.
final class TypedConfigTests: XCTestCase {
    private let base = #"plmn: "00101", pdn_list: [{ access_point_name: "ims" }],"#

    private func mme(_ text: String, file: StaticString = #filePath, line: UInt = #line) throws -> (MMEConfig, [ConfigWarning]) {
        try MMEConfig.decode(ConfigDocument.parse(text: text, file: "cfg/mme.cfg"), path: "cfg/mme.cfg")
    }

    private func epdg(_ body: String) throws -> EPDGConfig {
        try XCTUnwrap(mme(base + "epdg: { bind_addr: \"127.0.0.1\", \(body) },").0.epdg)
    }

    private func mmeError(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> ConfigError? {
        do {
            _ = try mme(text)
            XCTFail("expected an error", file: file, line: line)
        } catch let e as ConfigError {
            return e
        } catch {
            XCTFail("unexpected \(error)", file: file, line: line)
        }
        return nil
    }

    private func epdgError(_ body: String, file: StaticString = #filePath, line: UInt = #line) -> ConfigError? {
        mmeError(base + "epdg: { bind_addr: \"127.0.0.1\", \(body) },", file: file, line: line)
    }

    // MARK: epdg

    func testEPDGDefaults() throws {
        let e = try epdg("")
        XCTAssertEqual(e.bindAddr.description, "127.0.0.1:500")
        XCTAssertEqual(e.privateKey, "epdg_private_key.pem")
        XCTAssertEqual(e.privateKeyPath, "cfg/epdg_private_key.pem")
        XCTAssertEqual(e.certificate, "epdg_cert.pem")
        XCTAssertEqual(e.espDuration, 300)
        XCTAssertEqual(e.ikeDuration, 86400)
        XCTAssertFalse(e.omitAuthInFirstAuthRsp)
        XCTAssertNil(e.pCSCFIPv4AddressAttributeType)
        XCTAssertNil(e.pCSCFIPv6AddressAttributeType)
        XCTAssertEqual(e.ikeEncryptionAlgoList.map(\.rawValue), ["aes-cbc-128", "aes-cbc-192", "aes-cbc-256", "aes-gcm-128-16",
                                                                 "aes-gcm-256-16", "3des", "blowfish", "aes-ctr-128", "aes-ctr-192", "aes-ctr-256"])
        XCTAssertEqual(e.ikeIntegrityAlgoList.first, .hmacSHA1_96)
        XCTAssertEqual(e.ikeIntegrityAlgoList.count, 8)
        XCTAssertEqual(e.ikePRFList.map(\.rawValue), ["prf-hmac-sha1", "prf-hmac-sha2-256", "prf-hmac-sha2-384",
                                                      "prf-hmac-sha2-512", "prf-hmac-md5", "prf-aes128-xcbc"])
        XCTAssertEqual(e.ikeDHGroupList.map(\.rawValue), ["group_5", "group_14", "group_15", "group_16", "group_17",
                                                          "group_18", "group_19", "group_22", "group_23", "group_24"])
        XCTAssertEqual(e.espEncryptionAlgoList.first, .null)
        XCTAssertEqual(e.espEncryptionAlgoList.count, 15)
        XCTAssertEqual(e.espIntegrityAlgoList.first, .null)
        XCTAssertEqual(e.espIntegrityAlgoList.count, 9)
        XCTAssertEqual(e.espDHGroupList.first, DHGroup.none)
        XCTAssertEqual(e.espDHGroupList.count, 11)
        XCTAssertEqual(e.dpdTimerValue, 300)
        XCTAssertTrue(e.mobike)
        XCTAssertNil(e.ikeGenerateError)
        XCTAssertEqual(e.idrForEmergency, "EMERGENCY")
        XCTAssertTrue(e.dontFragment)
        XCTAssertEqual(e.additionalUEAuthType, .none)
        XCTAssertEqual(e.natTPort, 4500)
        XCTAssertEqual(e.tunIfname, "vowifi0")
        XCTAssertEqual(e.cookieThreshold, 100)
        XCTAssertEqual(e.sqnDB, "cfg/ue_db.sqlite")
        XCTAssertNil(e.keyLog)
        // Every callbox parameter and every extra is rendered by `config check`.
        XCTAssertEqual(e.resolvedParameters.map(\.name), EPDGConfig.callboxParameters + EPDGConfig.extraParameters)
        XCTAssertEqual(EPDGConfig.callboxParameters.count, 21)
    }

    func testEPDGSettings() throws {
        // additional_ue_auth_type needs the PDN's username/password.
        let withCredentials = #"plmn: "00101", pdn_list: [{ access_point_name: "ims", username: "u", password: "p" }],"#
        let e = try XCTUnwrap(mme(withCredentials + "epdg: { bind_addr: \"127.0.0.1\", " + """
        esp_duration: 5*3600, ike_duration: 48*3600, omit_auth_in_first_auth_rsp: 1,
        p_cscf_ipv4_address_attribute_type: 16384, p_cscf_ipv6_address_attribute_type: 32767,
        esp_encryption_algo_list: ["aes-gcm-192-16", "null"], esp_integrity_algo_list: ["null"],
        ike_prf_list: ["prf-hmac-sha2-256"], ike_integrity_algo_list: ["aes-cmac-96"],
        ike_dh_group_list: ["group_1", "group_2"], dpd_timer_value: 5, mobike: false, dont_fragment: 0,
        idr_for_emergency: "sos", additional_ue_auth_type: "chap", nat_t_port: 14500, tun_ifname: "epdg1",
        cookie_threshold: 0, sqn_db: "/tmp/x.sqlite", key_log: "keys.log",
        """ + " },").0.epdg)
        XCTAssertEqual(e.espDuration, 18000)
        XCTAssertEqual(e.ikeDuration, 172800)
        XCTAssertTrue(e.omitAuthInFirstAuthRsp)
        XCTAssertEqual(e.pCSCFIPv4AddressAttributeType, 16384)
        XCTAssertEqual(e.pCSCFIPv6AddressAttributeType, 32767)
        XCTAssertEqual(e.espEncryptionAlgoList, [.aesGCM192_16, .null])
        XCTAssertEqual(e.espIntegrityAlgoList, [.null])
        XCTAssertEqual(e.ikePRFList, [.hmacSHA2_256])
        XCTAssertEqual(e.ikeIntegrityAlgoList, [.aesCMAC96])
        XCTAssertEqual(e.ikeDHGroupList, [.group1, .group2])
        XCTAssertEqual(e.dpdTimerValue, 5)
        XCTAssertFalse(e.mobike)
        XCTAssertFalse(e.dontFragment)
        XCTAssertEqual(e.idrForEmergency, "sos")
        XCTAssertEqual(e.additionalUEAuthType, .chap)
        XCTAssertEqual(e.natTPort, 14500)
        XCTAssertEqual(e.tunIfname, "epdg1")
        XCTAssertEqual(e.cookieThreshold, 0)
        XCTAssertEqual(e.sqnDB, "/tmp/x.sqlite")
        XCTAssertEqual(e.keyLog, "cfg/keys.log")
    }

    func testBindAddrForms() throws {
        func bind(_ s: String) throws -> String {
            try XCTUnwrap(mme(base + "epdg: { bind_addr: \"\(s)\" },").0.epdg).bindAddr.description
        }
        XCTAssertEqual(try bind("127.0.1.100:500"), "127.0.1.100:500")
        XCTAssertEqual(try bind("10.42.0.1"), "10.42.0.1:500")
        XCTAssertEqual(try bind("[2001:db8::1]:1500"), "[2001:db8::1]:1500")
        XCTAssertEqual(try bind("2001:db8::1"), "[2001:db8::1]:500")
        XCTAssertEqual(try bind("[::]"), "[::]:500")
        for bad in ["10.0.0.1:70000", "10.0.0.1:0", "[10.0.0.1]:500", "epdg.example:500", "10.0.0.256", "[::1", "1.2.3.4:"] {
            let e = mmeError(base + "epdg: { bind_addr: \"\(bad)\" },")
            XCTAssertEqual(e?.kind, .invalidValue, bad)
        }
        XCTAssertEqual(mmeError(base + "epdg: { esp_duration: 300 },")?.message, "epdg: missing required property 'bind_addr'")
    }

    func testEPDGRanges() {
        XCTAssertEqual(epdgError("esp_duration: 9")?.kind, .range)
        XCTAssertEqual(epdgError("esp_duration: 18001")?.kind, .range)
        XCTAssertEqual(epdgError("ike_duration: 19")?.kind, .range)
        XCTAssertEqual(epdgError("ike_duration: 172801")?.kind, .range)
        XCTAssertEqual(epdgError("dpd_timer_value: 301")?.kind, .range)
        XCTAssertEqual(epdgError("p_cscf_ipv4_address_attribute_type: 16383")?.message,
                       "epdg.p_cscf_ipv4_address_attribute_type = 16383 is out of range 16384...32767")
        XCTAssertEqual(epdgError("p_cscf_ipv6_address_attribute_type: 32768")?.kind, .range)
        XCTAssertEqual(epdgError("esp_duration: 300.5")?.kind, .type)
        XCTAssertEqual(epdgError("esp_duration: \"300\"")?.message, "epdg.esp_duration: expected an integer, found string \"300\"")
    }

    func testAlgorithmListsValidatePerProtocol() {
        // null and aes-gcm-192-16 exist for ESP only; none is for esp_dh_group_list only.
        XCTAssertEqual(epdgError(#"ike_encryption_algo_list: ["null"]"#)?.kind, .invalidValue)
        XCTAssertEqual(epdgError(#"ike_encryption_algo_list: ["aes-gcm-192-16"]"#)?.kind, .invalidValue)
        XCTAssertEqual(epdgError(#"ike_integrity_algo_list: ["null"]"#)?.kind, .invalidValue)
        XCTAssertEqual(epdgError(#"ike_dh_group_list: ["none"]"#)?.kind, .invalidValue)
        XCTAssertEqual(epdgError(#"ike_dh_group_list: ["group_20"]"#)?.kind, .invalidValue)
        XCTAssertEqual(epdgError(#"esp_encryption_algo_list: []"#)?.message, "epdg.esp_encryption_algo_list: the list must not be empty")
        XCTAssertEqual(epdgError(#"ike_prf_list: "prf-hmac-sha1""#)?.kind, .type)
        XCTAssertEqual(epdgError(#"ike_prf_list: ["prf-hmac-sha-256"]"#)?.message.hasSuffix("(did you mean 'prf-hmac-sha2-256'?)"), true)
        XCTAssertEqual(epdgError(#"additional_ue_auth_type: "eap""#)?.kind, .invalidValue)
    }

    func testAdditionalAuthNeedsPDNCredentials() throws {
        // pap/chap without the PDN's username/password: an error at the PDN naming the missing fields.
        let text = #"""
        plmn: "00101",
        pdn_list: [
          { access_point_name: "ims", username: "alice" },
          { access_point_name: "sos", emergency: true },
          { access_point_name: "internet", username: "bob", password: "pw" },
        ],
        epdg: { bind_addr: "127.0.0.1", additional_ue_auth_type: "pap" },
        """#
        let e = try XCTUnwrap(mmeError(text))
        XCTAssertEqual(e.all.count, 1, "the emergency PDN is exempt and the complete one passes: \(e.all)")
        XCTAssertEqual(e.kind, .missing)
        XCTAssertEqual(e.location?.line, 3)
        XCTAssertEqual(e.location?.file, "cfg/mme.cfg")
        XCTAssertTrue(e.message.hasPrefix(#"pdn_list[0] ("ims"): password missing; epdg.additional_ue_auth_type "pap""#), e.message)
        // none needs nothing; chap with both set loads.
        XCTAssertNoThrow(try mme(text.replacingOccurrences(of: #""pap""#, with: #""none""#)))
        let ok = text.replacingOccurrences(of: #"username: "alice" }"#, with: #"username: "alice", password: "secret" }"#)
            .replacingOccurrences(of: #""pap""#, with: #""chap""#)
        XCTAssertEqual(try mme(ok).0.epdg?.additionalUEAuthType, .chap)
    }

    func testIANATransformIDs() {
        XCTAssertEqual(EncryptionAlgorithm.aesCBC256.transformID, 12)
        XCTAssertEqual(EncryptionAlgorithm.aesCBC256.keyLengthBits, 256)
        XCTAssertEqual(EncryptionAlgorithm.aesGCM128_16.transformID, 20)
        XCTAssertTrue(EncryptionAlgorithm.encrNullAuthAESGMAC128.isAEAD)
        XCTAssertEqual(EncryptionAlgorithm.null.transformID, 11)
        XCTAssertNil(EncryptionAlgorithm.tripleDES.keyLengthBits)
        XCTAssertEqual(IntegrityAlgorithm.hmacSHA256_128.transformID, 12)
        XCTAssertEqual(IntegrityAlgorithm.hmacSHA1_96.transformID, 2)
        XCTAssertEqual(PRFAlgorithm.hmacSHA2_256.transformID, 5)
        XCTAssertEqual(PRFAlgorithm.aes128XCBC.transformID, 4)
        XCTAssertEqual(DHGroup.group14.transformID, 14)
        XCTAssertEqual(DHGroup.none.transformID, 0)
    }

    func testIKEGenerateError() throws {
        let g = try XCTUnwrap(epdg("""
        ike_generate_error: {exchange: "ike_auth_step1", reject_notify_list: [{error: 9002, data: "1234"}, {error: 9003, data: "5678"}],
                             ttl: 1, apn_list: ["ims", "sos"]},
        """).ikeGenerateError)
        XCTAssertEqual(g.exchange, .ikeAuthStep1)
        XCTAssertEqual(g.rejectNotifyList, [.init(error: 9002, data: [0x12, 0x34]), .init(error: 9003, data: [0x56, 0x78])])
        XCTAssertEqual(g.ttl, 1)
        XCTAssertEqual(g.apnList, ["ims", "sos"])
        let ignore = try XCTUnwrap(epdg(#"ike_generate_error: {exchange: "dpd"}"#).ikeGenerateError)
        XCTAssertEqual(ignore.exchange, .dpd)
        XCTAssertNil(ignore.rejectNotifyList) // absent list: the message is ignored
        let old = try XCTUnwrap(epdg(#"ike_generate_error: {exchange: "ike_sa_init", error: 24}"#).ikeGenerateError)
        XCTAssertEqual(old.rejectNotifyList, [.init(error: 24, data: [])])
        let apns = (0..<17).map { "\"a\($0)\"" }.joined(separator: ",")
        XCTAssertEqual(epdgError("ike_generate_error: {exchange: \"dpd\", apn_list: [\(apns)]}")?.kind, .range)
        XCTAssertEqual(epdgError(#"ike_generate_error: {exchange: "ike_auth_step4"}"#)?.message.hasSuffix("(did you mean 'ike_auth_step1'?)"), true)
        XCTAssertEqual(epdgError(#"ike_generate_error: {exchange: "dpd", tll: 1}"#)?.message,
                       "unknown ike_generate_error parameter 'tll' (did you mean 'ttl'?)")
        XCTAssertEqual(epdgError(#"ike_generate_error: {reject_notify_list: [{error: 1, data: "xyz"}]}"#)?.kind, .invalidValue)
    }

    // MARK: top level, PLMN, PDN

    func testPLMN() throws {
        let p = try XCTUnwrap(PLMN("310260"))
        XCTAssertEqual(p.mcc, "310")
        XCTAssertEqual(p.mnc, "260")
        XCTAssertEqual(p.mnc3, "260")
        XCTAssertEqual(PLMN("00101")?.mnc3, "001")
        XCTAssertEqual(PLMN("00101")?.imsDomain, "ims.mnc001.mcc001.3gppnetwork.org")
        XCTAssertNil(PLMN("0010"))
        XCTAssertNil(PLMN("0010a"))
        XCTAssertEqual(mmeError(#"plmn: "0010", pdn_list: []"#)?.kind, .invalidValue)
        XCTAssertEqual(mmeError(#"pdn_list: []"#)?.message, "missing required property 'plmn' (e.g. plmn: \"00101\")")
    }

    func testTopLevelUnknownKeysAreIgnoredWithHint() throws {
        let (c, w) = try mme(base + #"gtp_addr: "127.0.1.100", epgd: { bind_addr: "1.2.3.4" }, ims_vops_eps: 0,"#)
        XCTAssertNil(c.epdg)
        XCTAssertFalse(c.imsVopsEps)
        XCTAssertEqual(w.map(\.path), ["gtp_addr", "epgd"])
        XCTAssertTrue(w[1].message.contains("did you mean 'epdg'?"), w[1].message)
        XCTAssertEqual(w[0].location, SourceLocation(file: "cfg/mme.cfg", line: 1, column: 57))
    }

    func testPDNDecoding() throws {
        let (c, w) = try mme(#"""
        plmn: "00101",
        pdn_list: [{
          access_point_name: ["ims", "IMS2"], pdn_type: "ipv6",
          first_ipv6_prefix: "2001:db8:4:1::", last_ipv6_prefix: "2001:db8:4:ffff::",
          dns_addr: "2001:db8::53", p_cscf_addr: "2001:db8:4::1",
          authentication: "pap", username: "u", password: "p", tun_ifname: "tun1",
          qci: 5, backoff_timer: 10,
        }],
        """#)
        let p = c.pdnList[0]
        XCTAssertEqual(p.accessPointNames, ["ims", "IMS2"])
        XCTAssertEqual(p.pdnType, .ipv6)
        XCTAssertNil(p.firstIPAddr)
        XCTAssertEqual(p.dnsAddr.map(\.text), ["2001:db8::53"])
        XCTAssertEqual(p.pCSCFAddr.first?.isIPv6, true)
        XCTAssertEqual(p.authentication, .pap)
        XCTAssertEqual(p.username, "u")
        XCTAssertEqual(p.tunIfname, "tun1")
        XCTAssertEqual(Set(w.map(\.path)), ["pdn_list[].qci", "pdn_list[].backoff_timer"])
        XCTAssertEqual(c.pdn(named: "ims2")?.accessPointName, "ims")
    }

    func testPDNErrors() {
        XCTAssertEqual(mmeError(#"plmn: "00101", pdn_list: [{ access_point_name: "ims", p_cscf_adr: "1.2.3.4" }]"#)?.message,
                       "unknown pdn_list parameter 'p_cscf_adr' (did you mean 'p_cscf_addr'?)")
        XCTAssertEqual(mmeError(#"plmn: "00101", pdn_list: [{ access_point_name: "ims", first_ip_addr: "2001:db8::1", last_ip_addr: "10.0.0.1" }]"#)?.message,
                       "pdn_list[0].first_ip_addr: \"2001:db8::1\" must be an IPv4 address")
        XCTAssertEqual(mmeError(#"plmn: "00101", pdn_list: [{ access_point_name: "ims", first_ip_addr: "10.0.0.9", last_ip_addr: "10.0.0.1" }]"#)?.kind, .invalidValue)
        XCTAssertEqual(mmeError(#"plmn: "00101", pdn_list: [{ access_point_name: "ims", first_ip_addr: "10.0.0.1" }]"#)?.kind, .missing)
        XCTAssertEqual(mmeError(#"plmn: "00101", pdn_list: [{ access_point_name: "x", pdn_type: "ethernet" }]"#)?.kind, .invalidValue)
        XCTAssertEqual(mmeError(#"plmn: "00101", pdn_list: [{ pdn_type: "ipv4" }]"#)?.message, "pdn_list[0]: missing required property 'access_point_name'")
        XCTAssertEqual(mmeError(#"plmn: "00101", pdn_list: [{ access_point_name: "x", dns_addr: ["8.8.8.8", "8.8.8"] }]"#)?.message,
                       "pdn_list[0].dns_addr[1]: \"8.8.8\" is not an IPv4 or IPv6 address")
        XCTAssertEqual(mmeError(#"plmn: "00101", epdg: { bind_addr: "1.2.3.4" }"#)?.kind, .missing)
    }

    // MARK: ue_db

    private func ue(_ body: String) throws -> UEDBEntry {
        try XCTUnwrap(mme(base + "ue_db: [{ \(body) }],").0.ueDB.first)
    }

    private func ueError(_ body: String, file: StaticString = #filePath, line: UInt = #line) -> ConfigError? {
        mmeError(base + "ue_db: [{ \(body) }],", file: file, line: line)
    }

    func testUEDefaultsAndFields() throws {
        let u = try ue(#"imsi: "001010123456789", K: "00112233445566778899aabbccddeeff""#)
        XCTAssertEqual(u.simAlgo, .xor)
        XCTAssertEqual(u.amf, 0x9001)
        XCTAssertEqual(u.sqn, [0, 0, 0, 0, 0, 0])
        XCTAssertEqual(u.resLen, 8)
        XCTAssertEqual(u.authentType, .akav1)
        XCTAssertEqual(u.count, 1)
        XCTAssertFalse(u.multiSim)
        XCTAssertNil(u.r)
        let m = try ue("""
        sim_algo: "milenage", imsi: "001010000000001", K: "0x465b5ce8b199b49faa5f0a2ee238a6bc",
        op: "CDC202D5123E20F62B6D676AC72CB318", amf: 0xb9b9, sqn: "ff9bb4d0b607", res_len: 16,
        r: [64, 0, 32, 64, 96], c: ["00000000000000000000000000000000", "00000000000000000000000000000001",
        "00000000000000000000000000000002", "00000000000000000000000000000004", "00000000000000000000000000000008"],
        impu: ["001010000000001", {impu: "tel:600", anonymous: true, authentication: false}], msisdn: "0600000001",
        domain: "example.org", authent_type: "AKAv2", pdn_list: [{access_point_name: "ims", ipv4_addr: "192.168.4.9"}],
        isim_auth: {sim_algo: "xor"},
        """)
        XCTAssertEqual(m.simAlgo, .milenage)
        XCTAssertEqual(m.k?.first, 0x46)
        XCTAssertEqual(m.op?.first, 0xcd)
        XCTAssertEqual(m.amf, 0xb9b9)
        XCTAssertEqual(m.sqn, [0xff, 0x9b, 0xb4, 0xd0, 0xb6, 0x07])
        XCTAssertEqual(m.resLen, 16)
        XCTAssertEqual(m.r, [64, 0, 32, 64, 96])
        XCTAssertEqual(m.c?.last?.last, 8)
        XCTAssertEqual(m.impu.count, 2)
        XCTAssertTrue(m.impu[1].anonymous)
        XCTAssertFalse(m.impu[1].authentication)
        XCTAssertEqual(m.authentType, .akav2)
        XCTAssertEqual(m.domain, "example.org")
        XCTAssertEqual(m.pdnList.first?.ipv4Addr?.text, "192.168.4.9")
    }

    func testMD5WhenPwdSetAndAuthentTypeAbsent() throws {
        XCTAssertEqual(try ue(#"impi: "alice", pwd: "x""#).authentType, .md5)
        XCTAssertEqual(try ue(#"imsi: "001010000000009", K: "00000000000000000000000000000001", impi: "a", pwd: "x", authent_type: "AKAv1""#).authentType, .akav1)
        XCTAssertEqual(try ue(#"impi: "bob", authent_type: "none""#).authentType, UEDBEntry.AuthentType.none)
    }

    func testUEErrors() {
        XCTAssertEqual(ueError(#"imsi: "001010000000001", sim_algo: "milenage", K: "00000000000000000000000000000001""#)?.message,
                       "ue_db[0]: sim_algo \"milenage\" needs 'op' or 'opc' (16 bytes hex)")
        XCTAssertEqual(ueError(#"imsi: "001010000000001", K: "00000000000000000000000000000001", op: "00000000000000000000000000000001", opc: "00000000000000000000000000000001""#)?.kind, .invalidValue)
        XCTAssertEqual(ueError(#"imsi: "001010000000001""#)?.message, "ue_db[0]: missing required property 'K' (the SIM key, 16 bytes hex)")
        XCTAssertEqual(ueError(#"imsi: "0010100000000012345", K: "00000000000000000000000000000001""#)?.kind, .invalidValue)
        XCTAssertEqual(ueError(#"imsi: "001010000000001", K: "00000000000000000000000000000001", amf: 0x10000"#)?.kind, .range)
        XCTAssertEqual(ueError(#"imsi: "001010000000001", K: "00000000000000000000000000000001", res_len: 3"#)?.kind, .range)
        XCTAssertEqual(ueError(#"imsi: "001010000000001", K: "00000000000000000000000000000001", sqn: "0000000001""#)?.message,
                       "ue_db[0].sqn: expected 6 bytes (12 hex digits), found 5 bytes")
        XCTAssertEqual(ueError(#"imsi: "001010000000001", K: "00000000000000000000000000000001", r: [1, 2, 3]"#)?.kind, .invalidValue)
        XCTAssertEqual(ueError(#"imsi: "001010000000001", K: "00000000000000000000000000000001", r: [1, 2, 3, 4, 128]"#)?.kind, .range)
        XCTAssertEqual(ueError(#"imsi: "001010000000001", K: "00000000000000000000000000000001", sim_algo: "tuak""#)?.kind, .invalidValue)
        XCTAssertEqual(ueError(#"imsi: "001010000000001", K: "00000000000000000000000000000001", imis: "1""#)?.message,
                       "unknown ue_db parameter 'imis' (did you mean 'imsi'?)")
        XCTAssertEqual(ueError(#"imsi: "001010000000001", K: "00000000000000000000000000000001", impu: [{impu: "tel:1", anonymus: true}]"#)?.message,
                       "unknown impu parameter 'anonymus' (did you mean 'anonymous'?)")
        XCTAssertEqual(ueError(#"impi: "a", authent_type: "MD5""#)?.message, "ue_db[0]: authent_type \"MD5\" needs 'pwd'")
        XCTAssertEqual(ueError(#"pwd: "x""#)?.kind, .missing)
        let dup = mmeError(base + #"ue_db: [{imsi: "001010000000001", K: "00000000000000000000000000000001"}, {imsi: "001010000000001", K: "00000000000000000000000000000002"}],"#)
        XCTAssertTrue(dup?.message.contains("already defined") ?? false)
    }

    // MARK: IMS

    private func ims(_ text: String) throws -> (IMSConfig, [ConfigWarning]) {
        try IMSConfig.decode(ConfigDocument.parse(text: text, file: "ims.cfg"), path: "ims.cfg")
    }

    private func imsError(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> ConfigError? {
        do {
            _ = try ims(text)
            XCTFail("expected an error", file: file, line: line)
        } catch let e as ConfigError {
            return e
        } catch {
            XCTFail("unexpected \(error)", file: file, line: line)
        }
        return nil
    }

    func testIMSForms() throws {
        let (legacy, _) = try ims(#"sip_addr: "192.0.2.1""#)
        XCTAssertEqual(legacy.sipAddr.map(\.addr.description), ["192.0.2.1:5060"])
        XCTAssertEqual(legacy.domain, "ims.mnc001.mcc001.3gppnetwork.org")
        XCTAssertEqual(legacy.precondition, .on)
        let (c, w) = try ims(#"""
        sip_addr: { addr: "198.51.100.1:5070", bind_addr: "0.0.0.0", port_min: 30000, port_max: 30100, trunk: false },
        precondition: "silent", "100rel": false, binding_expires: 864000, tcp_threshold: 0,
        timer_t1: 0.5, timer_t2: 4, timer_t4: 5, path: "",
        session_expires: { duration: 600, min: 90, refresher: "uas", method: "invite", force: false, extra: 1 },
        echo: { impu: "tel:666", code: 486 },
        sctp_addr: "127.0.0.1", cx_server_addr: "127.0.1.100",
        """#)
        XCTAssertEqual(c.sipAddr.count, 1)
        XCTAssertEqual(c.sipAddr[0].addr.port, 5070)
        XCTAssertEqual(c.sipAddr[0].bindAddr.description, "0.0.0.0:5070")
        XCTAssertEqual(c.sipAddr[0].portMin, 30000)
        XCTAssertEqual(c.precondition, .silent)
        XCTAssertFalse(c.rel100)
        XCTAssertEqual(c.bindingExpires, 864000)
        XCTAssertEqual(c.timerT1, 0.5)
        XCTAssertNil(c.path)
        XCTAssertEqual(c.sessionExpires, .init(duration: 600, min: 90, refresher: "uas", method: "invite", force: false))
        XCTAssertEqual(c.echo, [.init(impu: "tel:666", code: 486)])
        XCTAssertEqual(Set(w.map(\.path)), ["sip_addr[].trunk", "session_expires.extra", "sctp_addr", "cx_server_addr"])
    }

    func testIMSErrors() {
        XCTAssertEqual(imsError(#"domain: "x""#)?.kind, .missing)
        XCTAssertEqual(imsError(#"sip_addr: [{ addr: "1.2.3.4", port_min: 2000, port_max: 1000 }]"#)?.kind, .invalidValue)
        XCTAssertEqual(imsError(#"sip_addr: [{ adr: "1.2.3.4" }]"#)?.all.last?.message, "unknown sip_addr parameter 'adr' (did you mean 'addr'?)")
        XCTAssertEqual(imsError(#"sip_addr: "1.2.3.4", echo: [{ impu: "tel:1", cod: 404 }]"#)?.message,
                       "unknown echo parameter 'cod' (did you mean 'code'?)")
        XCTAssertEqual(imsError(#"sip_addr: "1.2.3.4", echo: [{ impu: "tel:1", code: 99 }]"#)?.kind, .range)
        XCTAssertEqual(imsError(#"sip_addr: "1.2.3.4", binding_expires: 864001"#)?.kind, .range)
        XCTAssertEqual(imsError(#"sip_addr: "1.2.3.4", precondition: "yes""#)?.kind, .invalidValue)
    }

    // MARK: com_auth

    func testComAuth() throws {
        XCTAssertNil(try mme(base).0.comAuth)
        let (c, w) = try mme(base + #"com_auth: { password: "s3cret", unsecure: true },"#)
        XCTAssertEqual(c.comAuth?.password, "s3cret")
        XCTAssertEqual(c.comAuth?.location.line, 1)
        XCTAssertTrue(w.contains { $0.path == "com_auth.unsecure" }, "documented, reported as ignored: \(w)")
        XCTAssertEqual(try ims(#"sip_addr: "192.0.2.1", com_auth: { password: "x" }"#).0.comAuth?.password, "x")

        // passfile: relative to the config's directory, without the trailing newline.
        let dir = NSTemporaryDirectory() + "comauth-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "from file\n".write(toFile: dir + "/api.pass", atomically: true, encoding: .utf8)
        let path = dir + "/mme.cfg"
        let text = base + #"com_auth: { passfile: "api.pass" },"#
        XCTAssertEqual(try MMEConfig.decode(ConfigDocument.parse(text: text, file: path), path: path).config.comAuth?.password, "from file")
    }

    func testComAuthErrors() throws {
        func error(_ auth: String) -> ConfigError? { mmeError(base + "\n com_auth: \(auth),") }
        let missing = try XCTUnwrap(error("{}"))
        XCTAssertEqual(missing.kind, .missing)
        XCTAssertEqual(missing.location?.line, 2)
        XCTAssertEqual(missing.message, "com_auth: missing 'password' or 'passfile'")
        let both = try XCTUnwrap(error(#"{ password: "a", passfile: "b" }"#))
        XCTAssertEqual(both.kind, .invalidValue)
        XCTAssertEqual(both.message, "com_auth: give either password or passfile, not both")
        let unreadable = try XCTUnwrap(error(#"{ passfile: "no-such.pass" }"#))
        XCTAssertEqual(unreadable.message, #"com_auth.passfile: cannot read "cfg/no-such.pass""#)
        XCTAssertEqual("\(unreadable.location!)".hasPrefix("cfg/mme.cfg:2:"), true, "\(unreadable.location!)")
        XCTAssertEqual(error(#"{ password: 1234 }"#)?.kind, .type)
        XCTAssertEqual(error(#"{ password: "" }"#)?.message, "com_auth: the password is empty")
        XCTAssertEqual(error(#"{ pasword: "a" }"#)?.all.first { $0.kind == .unknownKey }?.message,
                       "unknown com_auth parameter 'pasword' (did you mean 'password'?)")
        XCTAssertEqual(error(#""secret""#)?.kind, .type)
    }

    func testConfigKindDetection() throws {
        XCTAssertEqual(ConfigKind.detect(try ConfigDocument.parse(text: "epdg: {}")), .mme)
        XCTAssertEqual(ConfigKind.detect(try ConfigDocument.parse(text: "pdn_list: []")), .mme)
        XCTAssertEqual(ConfigKind.detect(try ConfigDocument.parse(text: "sip_addr: []")), .ims)
        XCTAssertNil(ConfigKind.detect(try ConfigDocument.parse(text: "ue_db: []")))
    }

    // MARK: addresses

    func testIPAddressParsing() {
        XCTAssertEqual(ConfigIPAddress("::")?.bytes, [UInt8](repeating: 0, count: 16))
        XCTAssertEqual(ConfigIPAddress("::1")?.bytes.last, 1)
        XCTAssertEqual(ConfigIPAddress("2001:db8::")?.bytes.prefix(4), [0x20, 0x01, 0x0d, 0xb8])
        XCTAssertEqual(ConfigIPAddress("::ffff:192.0.2.1")?.bytes.suffix(6), [0xff, 0xff, 192, 0, 2, 1])
        XCTAssertEqual(ConfigIPAddress("1:2:3:4:5:6:7:8")?.bytes[15], 8)
        XCTAssertEqual(ConfigIPAddress("192.0.2.1")?.ipv4Value, 0xC000_0201)
        XCTAssertEqual(ConfigIPAddress("2001:DB8::1"), ConfigIPAddress("2001:db8:0::1"))
        for bad in [":::", "1::2::3", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "12345::", "g::1", "1.2.3", "01.2.3.4.5", "1.2.3.4.", ""] {
            XCTAssertNil(ConfigIPAddress(bad), bad)
        }
    }
}

extension TypedConfigTests {
    func testIdentities() throws {
        let plmn = try XCTUnwrap(PLMN("00101"))
        var u = UEDBEntry(location: SourceLocation(file: "x", line: 1, column: 1))
        u.imsi = "001010123456789"
        XCTAssertEqual(u.resolvedIMPI(plmn: plmn), "001010123456789@ims.mnc001.mcc001.3gppnetwork.org")
        u.impi = "user1"
        XCTAssertEqual(u.resolvedIMPI(plmn: plmn), "user1")
        XCTAssertEqual(u.resolvedDomain(imsDomain: "d.org"), "d.org")
        let d = "ims.mnc001.mcc001.3gppnetwork.org"
        XCTAssertEqual(UEDBEntry.IMPU(impu: "001010123456789").uri(domain: d), "sip:001010123456789@\(d)")
        XCTAssertEqual(UEDBEntry.IMPU(impu: "sip:user").uri(domain: d), "sip:user@\(d)")
        XCTAssertEqual(UEDBEntry.IMPU(impu: "sip:a@b.org").uri(domain: d), "sip:a@b.org")
        XCTAssertEqual(UEDBEntry.IMPU(impu: "tel:600").uri(domain: d), "tel:600")
        XCTAssertEqual(UEDBEntry.IMPU(impu: "urn:service:sos").uri(domain: d), "urn:service:sos")
    }
}

extension TypedConfigTests {
    func testCodeInitializersHaveFileDefaults() throws {
        let fromFile = try epdg("")
        let ep = try XCTUnwrap(ConfigEndpoint("127.0.0.1", defaultPort: 500))
        let inCode = EPDGConfig(bindAddr: ep, configDirectory: "cfg")
        XCTAssertEqual(inCode.resolvedParameters.map(\.value), fromFile.resolvedParameters.map(\.value))
        let u = UEDBEntry(imsi: "001010000000001", simAlgo: .milenage, k: [UInt8](repeating: 1, count: 16), opc: [UInt8](repeating: 2, count: 16))
        XCTAssertEqual(u.amf, 0x9001)
        XCTAssertEqual(u.resLen, 8)
        XCTAssertEqual(u.authentType, .akav1)
        let m = MMEConfig(plmn: .test, pdnList: [PDNConfig(accessPointName: "ims", pdnType: .ipv4v6)], ueDB: [u], epdg: inCode)
        XCTAssertEqual(m.pdn(named: "ims")?.pdnType, .ipv4v6)
    }
}

import TestSupport
import XCTest
@testable import Config

/// The shipped default configs and the fixtures of Tests/Fixtures/configs.
final class FixtureTests: XCTestCase {
    private func path(_ relative: String) -> String {
        Vectors.repoRoot.appendingPathComponent(relative).path
    }

    /// The error of loading `relative` as an MME config.
    private func mmeError(_ relative: String, file: StaticString = #filePath, line: UInt = #line) -> ConfigError? {
        do {
            _ = try MMEConfig.load(path: path(relative))
            XCTFail("\(relative) loaded without error", file: file, line: line)
        } catch let e as ConfigError {
            return e
        } catch {
            XCTFail("unexpected \(error)", file: file, line: line)
        }
        return nil
    }

    private func assertAt(_ e: ConfigError?, _ fileSuffix: String, _ line: Int, _ column: Int,
                          file: StaticString = #filePath, testLine: UInt = #line) {
        guard let loc = e?.location else { return XCTFail("no location", file: file, line: testLine) }
        XCTAssertTrue(loc.file.hasSuffix(fileSuffix), "\(loc.file)", file: file, line: testLine)
        XCTAssertEqual(loc.line, line, "line", file: file, line: testLine)
        XCTAssertEqual(loc.column, column, "column", file: file, line: testLine)
        XCTAssertTrue(e?.description.hasPrefix("\(loc.file):\(line):\(column): ") ?? false, file: file, line: testLine)
    }

    // MARK: default configs

    func testDefaultMMEConfig() throws {
        let (c, warnings) = try MMEConfig.load(path: path("config/mme-ims.cfg"))
        XCTAssertTrue(warnings.isEmpty, "\(warnings)")
        XCTAssertEqual(c.plmn.mcc, "001")
        XCTAssertEqual(c.plmn.mnc, "01")
        XCTAssertEqual(c.plmn.naiRealm, "nai.epc.mnc001.mcc001.3gppnetwork.org")
        XCTAssertTrue(c.imsVopsEps && c.imsVops5gs3gpp && c.imsVops5gsN3gpp)
        let e = try XCTUnwrap(c.epdg)
        XCTAssertEqual(e.bindAddr.description, "127.0.0.1:500")
        XCTAssertEqual(e.ikeDuration, 86400)
        XCTAssertEqual(e.espDuration, 300)
        XCTAssertEqual(e.sqnDB, path("config/ue_db.sqlite"))
        XCTAssertEqual(e.certificatePath, path("config/epdg_cert.pem"))
        XCTAssertEqual(e.tunIfname, "vowifi0")
        XCTAssertNil(e.keyLog)

        let ims = try XCTUnwrap(c.pdn(named: "IMS"))
        XCTAssertEqual(ims.pdnType, .ipv4v6)
        XCTAssertEqual(ims.firstIPAddr?.text, "192.168.4.2")
        XCTAssertEqual(ims.lastIPAddr?.ipv4Value, 0xC0A8_04FE)
        XCTAssertEqual(ims.firstIPv6Prefix?.bytes, [0x20, 0x01, 0x0d, 0xb8, 0, 4, 0, 1] + [UInt8](repeating: 0, count: 8))
        XCTAssertEqual(ims.pCSCFAddr.map(\.text), ["192.168.4.1", "2001:db8:4::1"])
        XCTAssertEqual(ims.dnsAddr.map(\.isIPv6), [false, true])
        XCTAssertFalse(ims.emergency)
        let sos = try XCTUnwrap(c.emergencyPDN)
        XCTAssertEqual(sos.accessPointName, "sos")
        XCTAssertEqual(sos.pCSCFAddr.first?.text, "192.168.5.1")

        XCTAssertEqual(c.ueDB.count, 7)
        XCTAssertEqual(c.expandedUEDB.count, 1006)
        let xor = c.ueDB[0]
        XCTAssertEqual(xor.imsi, "001010123456789")
        XCTAssertEqual(xor.simAlgo, .xor)
        XCTAssertEqual(xor.k, Vectors.bytes("00112233445566778899aabbccddeeff"))
        XCTAssertEqual(xor.amf, 0x9001)
        XCTAssertEqual(xor.sqn, [0, 0, 0, 0, 0, 0])
        XCTAssertEqual(xor.resLen, 8)
        XCTAssertEqual(xor.authentType, .akav1)
        let md5 = try XCTUnwrap(c.ueDB.first { $0.impi == "user1" })
        XCTAssertEqual(md5.authentType, .md5)
        XCTAssertEqual(md5.pwd, "secret")
        XCTAssertNil(md5.imsi)
    }

    /// The demo Milenage SIMs carry TS 35.208 credentials, and the SIPp one has none of the
    /// bytes SIPp cannot load (0x0a, 0x5b, 0x5c, or a 0x00 before the end).
    func testDemoSIMsMatchTS35208AndSuitSIPp() throws {
        let (c, _) = try MMEConfig.load(path: path("config/mme-ims.cfg"))
        let json = try XCTUnwrap(try Vectors.json("milenage_ts35208.json") as? [String: Any])
        let cases = try XCTUnwrap(json["cases"] as? [[String: Any]])
        func set(_ n: Int) throws -> [String: Any] { try XCTUnwrap(cases.first { ($0["test_set"] as? Int) == n }) }
        let s1 = try set(1), s8 = try set(8), s19 = try set(19)
        let sim1 = try XCTUnwrap(c.ueDB.first { $0.imsi == "001010000000001" })
        XCTAssertEqual(sim1.k, Vectors.bytes(s1["k"] as? String ?? ""))
        XCTAssertEqual(sim1.opc, Vectors.bytes(s1["opc"] as? String ?? ""))
        let sipp = try XCTUnwrap(c.ueDB.first { $0.imsi == "001010000000002" })
        XCTAssertEqual(sipp.simAlgo, .milenage)
        XCTAssertEqual(sipp.k, Vectors.bytes(s8["k"] as? String ?? ""))
        XCTAssertEqual(sipp.op, Vectors.bytes(s8["op"] as? String ?? ""))
        for key in [sipp.k ?? [], sipp.op ?? []] {
            XCTAssertFalse(key.contains(0x0a) || key.contains(0x5b) || key.contains(0x5c))
            let inner = key.reversed().drop { $0 == 0 }
            XCTAssertFalse(inner.contains(0))
        }
        let aka = try XCTUnwrap(c.ueDB.first { $0.imsi == "001010000000003" })
        XCTAssertEqual(aka.opc, Vectors.bytes(s19["opc"] as? String ?? ""))
        XCTAssertEqual(aka.amf, 0xc3ab)
    }

    func testLoadTestSIMsExpand() throws {
        let (c, _) = try MMEConfig.load(path: path("config/mme-ims.cfg"))
        let load = try XCTUnwrap(c.ueDB.first { $0.count == 1000 })
        let all = load.expanded()
        XCTAssertEqual(all.count, 1000)
        XCTAssertEqual(all.first?.imsi, "001010000100000")
        XCTAssertEqual(all.last?.imsi, "001010000100999")
        XCTAssertEqual(all[1].k, Vectors.bytes("000102030405060708090a0b0c0d0e10"))
        XCTAssertEqual(all[999].k?.suffix(2), [0x11, 0xf6]) // 0x0e0f + 999 = 0x11f6
        XCTAssertEqual(all[5].impi, "001010000100005@ims.mnc001.mcc001.3gppnetwork.org")
        XCTAssertEqual(all[5].impu.first?.impu, "001010000100005")
        XCTAssertEqual(Set(all.compactMap(\.imsi)).count, 1000)
    }

    func testDefaultIMSConfig() throws {
        let (c, warnings) = try IMSConfig.load(path: path("config/ims.cfg"))
        XCTAssertTrue(warnings.isEmpty, "\(warnings)")
        XCTAssertEqual(c.sipAddr.map(\.addr.description),
                       ["192.168.4.1:5060", "[2001:db8:4::1]:5060", "192.168.5.1:5060", "[2001:db8:5::1]:5060", "127.0.0.1:5060"])
        XCTAssertEqual(c.sipAddr[0].bindAddr, c.sipAddr[0].addr)
        XCTAssertEqual(c.sipAddr[0].portMin, 10000)
        XCTAssertEqual(c.sipAddr[0].portMax, 20000)
        XCTAssertEqual(c.domain, "ims.mnc001.mcc001.3gppnetwork.org")
        XCTAssertEqual(c.echo.map(\.impu), ["tel:666", "tel:+666", "tel:404", "urn:service:sos"])
        XCTAssertEqual(c.echo[2].code, 404)
        XCTAssertNil(c.echo[0].code)
        XCTAssertTrue(c.echo[3].anonymous)
        XCTAssertFalse(c.echo[3].authentication)
        XCTAssertTrue(c.echo[0].authentication)
        XCTAssertEqual(c.precondition, .on)
        XCTAssertTrue(c.rel100)
        XCTAssertEqual(c.bindingExpires, 3600)
        XCTAssertEqual(c.tcpThreshold, 1300)
        XCTAssertEqual(c.timerT1, 2)
        XCTAssertEqual(c.sessionExpires.duration, 1800)
        XCTAssertEqual(c.path, "sip:ims.mnc001.mcc001.3gppnetwork.org")
        XCTAssertEqual(c.ueDB.count, 7)
    }

    /// The P-CSCF addresses the ePDG hands out are addresses the IMS listens on.
    func testPCSCFAddressesAreIMSSIPAddresses() throws {
        let (mme, _) = try MMEConfig.load(path: path("config/mme-ims.cfg"))
        let (ims, _) = try IMSConfig.load(path: path("config/ims.cfg"))
        let sip = Set(ims.sipAddr.map(\.addr.address))
        for pdn in mme.pdnList {
            for a in pdn.pCSCFAddr { XCTAssertTrue(sip.contains(a), "\(pdn.accessPointName): \(a) not in sip_addr") }
        }
    }

    // MARK: the field config

    func testFieldConfig() throws {
        let (c, warnings) = try MMEConfig.load(path: path("Tests/Fixtures/configs/field-mme.cfg"))
        XCTAssertEqual(c.plmn.description, "00101")
        XCTAssertTrue(c.imsVopsEps) // written as 1
        let e = try XCTUnwrap(c.epdg)
        XCTAssertEqual(e.bindAddr.address.text, "127.0.1.100")
        XCTAssertEqual(e.bindAddr.port, 500)
        XCTAssertEqual(e.espDuration, 900) // #define ESP_LIFETIME 15 * 60
        XCTAssertTrue(e.omitAuthInFirstAuthRsp)
        XCTAssertEqual(e.ikeEncryptionAlgoList, [.aesCBC256, .aesCBC128, .aesGCM128_16])
        XCTAssertEqual(e.ikeDHGroupList, [.group14, .group2])
        XCTAssertEqual(e.espDHGroupList, [.none, .group14])
        XCTAssertEqual(e.ikeIntegrityAlgoList, IntegrityAlgorithm.ikeDefault)
        XCTAssertEqual(e.dpdTimerValue, 60)
        XCTAssertEqual(e.ikeGenerateError?.exchange, .ikeAuthStep1)
        XCTAssertEqual(e.ikeGenerateError?.rejectNotifyList, [.init(error: 9002, data: [0x12, 0x34])])
        XCTAssertEqual(e.sqnDB, "/var/lib/vowifi/sqn-00101.sqlite") // backquote string with defines

        XCTAssertEqual(c.pdnList.map(\.accessPointName), ["internet", "ims", "sos"])
        XCTAssertEqual(c.pdnList[0].accessPointNames, ["internet", "default"])
        XCTAssertEqual(c.pdn(named: "default")?.accessPointName, "internet")
        XCTAssertEqual(c.pdnList[0].ipAddrShift, 2)
        // The repeated p_cscf_addr merged, the later value winning.
        XCTAssertEqual(c.pdnList[1].pCSCFAddr.map(\.text), ["192.168.4.1", "2001:db8:4::1"])

        XCTAssertEqual(c.ueDB.count, 2) // the #if 0 entry is skipped
        XCTAssertEqual(c.ueDB[0].impu.last, {
            var i = UEDBEntry.IMPU(impu: "tel:0701"); i.imei = "359027072930540"; return i
        }())
        XCTAssertTrue(c.ueDB[0].multiSim)
        XCTAssertEqual(c.ueDB[1].opc, Array(0...15))

        let ignored = Set(warnings.map(\.path))
        for key in ["gtp_addr", "s1ap_bind_addr", "nssai", "cp_ciot_opt", "emergency_number_list", "rx",
                    "ims_list", "network_name", "pdn_list[].erabs", "pdn_list[].slices", "pdn_list[].tun_setup_script",
                    "pdn_list[].5qi", "ue_db[].force_sms_over_sg"] {
            XCTAssertTrue(ignored.contains(key), "\(key) not reported as ignored")
        }
        // com_addr is the remote API now: typed, no longer ignored.
        XCTAssertEqual(c.comAddr?.address.bytes, [UInt8](repeating: 0, count: 16))
        XCTAssertEqual(c.comAddr?.port, 9000)
        XCTAssertFalse(ignored.contains("com_addr"))
        // Reported once even though two PDNs carry erabs.
        XCTAssertEqual(warnings.filter { $0.path == "pdn_list[].erabs" }.count, 1)
        let gtp = try XCTUnwrap(warnings.first { $0.path == "gtp_addr" })
        XCTAssertEqual(gtp.location.line, 19)
        XCTAssertEqual(c.ignored.count, warnings.count)
    }

    // MARK: broken configs: exact file:line:column

    func testUnclosedBrace() {
        let e = mmeError("Tests/Fixtures/configs/broken/unclosed-brace.cfg")
        XCTAssertEqual(e?.kind, .syntax)
        assertAt(e, "broken/unclosed-brace.cfg", 3, 7)
        XCTAssertTrue(e?.message.contains("'{' of 'epdg' opened here is never closed") ?? false)
    }

    func testMissingComma() {
        let e = mmeError("Tests/Fixtures/configs/broken/missing-comma.cfg")
        assertAt(e, "broken/missing-comma.cfg", 4, 1)
        XCTAssertEqual(e?.message, "expected ',' or end of file after property value, found 'epdg'")
    }

    func testMisspeltEPDGKey() {
        let e = mmeError("Tests/Fixtures/configs/broken/misspelt-key.cfg")
        XCTAssertEqual(e?.kind, .unknownKey)
        assertAt(e, "broken/misspelt-key.cfg", 5, 3)
        XCTAssertEqual(e?.message, "unknown epdg parameter 'esp_duraton' (did you mean 'esp_duration'?)")
    }

    func testAdditionalAuthWithoutPDNPassword() {
        let e = mmeError("Tests/Fixtures/configs/broken/additional-auth-no-password.cfg")
        XCTAssertEqual(e?.kind, .missing)
        assertAt(e, "broken/additional-auth-no-password.cfg", 8, 3)
        XCTAssertEqual(e?.message.hasPrefix(#"pdn_list[0] ("ims"): password missing; epdg.additional_ue_auth_type "chap" (at "#), true, e?.message ?? "")
    }

    func testMisspeltAlgorithm() {
        let e = mmeError("Tests/Fixtures/configs/broken/misspelt-value.cfg")
        XCTAssertEqual(e?.kind, .invalidValue)
        assertAt(e, "broken/misspelt-value.cfg", 7, 5)
        XCTAssertTrue(e?.message.hasPrefix("epdg.ike_encryption_algo_list[1]: \"aes-cbc-129\" is not one of \"aes-cbc-128\"") ?? false)
        XCTAssertTrue(e?.message.hasSuffix("(did you mean 'aes-cbc-128'?)") ?? false)
    }

    func testOutOfRangeReportsEveryError() {
        let e = mmeError("Tests/Fixtures/configs/broken/out-of-range.cfg")
        XCTAssertEqual(e?.kind, .range)
        assertAt(e, "broken/out-of-range.cfg", 5, 17)
        XCTAssertTrue(e?.message.hasPrefix("epdg.esp_duration = 5 is out of range 10...18000") ?? false)
        XCTAssertEqual(e?.all.count, 2)
        XCTAssertEqual(e?.all.last?.message.hasPrefix("epdg.dpd_timer_value = 600 is out of range 5...300"), true)
        XCTAssertEqual(e?.all.last?.location?.line, 6)
    }

    func testBadIncludePath() {
        let e = mmeError("Tests/Fixtures/configs/broken/bad-include.cfg")
        XCTAssertEqual(e?.kind, .include)
        assertAt(e, "broken/bad-include.cfg", 5, 1)
        XCTAssertTrue(e?.message.contains("no-such-ue_db.cfg") ?? false)
    }

    func testBadHexK() {
        let e = mmeError("Tests/Fixtures/configs/broken/bad-hex-k.cfg")
        XCTAssertEqual(e?.kind, .invalidValue)
        assertAt(e, "broken/bad-hex-k.cfg", 9, 8)
        XCTAssertEqual(e?.message, "ue_db[0].K: \"00112233445566778899aabbccddeefg\" is not hex: character 32 is 'g'")
        XCTAssertEqual(e?.all.last?.message, "ue_db[1].K: expected 16 bytes (32 hex digits), found 4 bytes")
        XCTAssertEqual(e?.all.last?.location?.line, 13)
    }

    func testWrongTypes() {
        let e = mmeError("Tests/Fixtures/configs/broken/wrong-type.cfg")
        XCTAssertEqual(e?.kind, .type)
        assertAt(e, "broken/wrong-type.cfg", 4, 14)
        XCTAssertEqual(e?.all.map(\.message), [
            "epdg.bind_addr: expected an address string such as \"127.0.0.1:500\", found number 500",
            "epdg.mobike: expected a boolean (true, false, 0 or 1), found string \"yes\"",
        ])
    }
}

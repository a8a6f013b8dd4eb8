import Config
import Foundation
import IKEv2
import TestSupport
import Wire
import XCTest
@testable import Runtime

/// The remote API of the assembled core, driven by a real WebSocket client (Debian's
/// python3-websockets) while a phone is attached over loopback UDP.
final class RemoteAPITests: XCTestCase {
    static let python = "/usr/bin/python3"
    static let script = Vectors.repoRoot.appendingPathComponent("Tests/Fixtures/remoteapi/ws_client.py").path
    var dir = ""

    override func setUpWithError() throws {
        guard FileManager.default.isExecutableFile(atPath: Self.python),
              (try? Self.run(["-c", "import websockets"])) != nil else {
            throw XCTSkip("python3-websockets is not installed (scripts/setup.sh --test)")
        }
        dir = NSTemporaryDirectory() + "vowifi-api-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    /// Runs python3 with `args`; its stdout (throws on a non-zero exit).
    @discardableResult
    static func run(_ args: [String]) throws -> String {
        let r = try ToolRun.run(python, args)
        guard r.status == 0 else { throw NSError(domain: "python3", code: Int(r.status), userInfo: [NSLocalizedDescriptionKey: r.err]) }
        return r.out
    }

    /// The ready message and one reply per request, from a fresh connection.
    func ask(_ port: UInt16, _ requests: [String]) throws -> [[String: Any]] {
        let text = try Self.run([Self.script, "client", "ws://127.0.0.1:\(port)"] + requests)
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]], text)
    }

    func log() -> String { (try? String(contentsOfFile: dir + "/core.log", encoding: .utf8)) ?? "" }

    func testMMEAPIWithAnAttachedPhone() throws {
        var o = EndToEndTests.options(dir: dir)
        o.mmeComAddr = "127.0.0.1:0"
        o.loops = 2
        let core = try VoWiFiCore(options: o)
        try core.start()
        defer { core.stop() }
        let api = try XCTUnwrap(core.remoteAPIs.first { $0.handler.type == "MME" })
        XCTAssertEqual(core.remoteAPIs.count, 1, "no IMS com_addr: no IMS API")
        let port = api.localAddress.port
        let (ike, natt) = try XCTUnwrap(core.group).loops[0].submit { [core] in (core.epdg!.ikeAddress, core.epdg!.natTAddress) }
        let attach = try LoopbackAttach.run(ikePort: ike.port, natTPort: natt.port, imei: "353490069873319")
        let child = try XCTUnwrap(attach.child, "no Child SA\n\(log())")
        let inner = try XCTUnwrap(attach.ue.assigned?.ipv4)

        let r = try ask(port, [#"{"message":"config_get","message_id":7}"#, #"{"message":"ue_get","message_id":"u"}"#,
                               #"{"message":"ipsec"}"#, #"{"message":"no_such_thing","message_id":3}"#,
                               #"{"message": "ue_get", "#, #"{"message":"ue_get","imsi":"001010000000009"}"#])
        XCTAssertEqual(r.count, 7)
        XCTAssertEqual(r[0]["message"] as? String, "ready")
        XCTAssertEqual(r[0]["type"] as? String, "MME")
        XCTAssertEqual(r[0]["name"] as? String, "MME")
        XCTAssertNotNil(r[0]["version"])

        XCTAssertEqual(r[1]["message"] as? String, "config_get")
        XCTAssertEqual(r[1]["message_id"] as? Int, 7)
        XCTAssertEqual(r[1]["type"] as? String, "MME")
        XCTAssertNotNil(r[1]["time"] as? Double); XCTAssertGreaterThan(r[1]["utc"] as? Double ?? 0, 1.7e9)

        XCTAssertEqual(r[2]["message_id"] as? String, "u")
        let ues = try XCTUnwrap(r[2]["ue_list"] as? [[String: Any]], "\(r[2])")
        XCTAssertEqual(ues.count, 1)
        XCTAssertEqual(ues.first?["imsi"] as? String, "001010000000001")
        XCTAssertEqual(ues.first?["rat_type"] as? String, "NON_3GPP")
        XCTAssertEqual(ues.first?["imei"] as? String, "353490069873319")
        let ueID = try XCTUnwrap(ues.first?["ue_id"] as? Int, "\(ues)")
        let bearer = try XCTUnwrap((ues.first?["bearers"] as? [[String: Any]])?.first)
        XCTAssertEqual(bearer["ip"] as? String, inner.description)
        XCTAssertEqual((bearer["apn"] as? String)?.lowercased(), "ims")

        let sas = try XCTUnwrap(r[3]["SAs"] as? [[String: Any]], "\(r[3])")
        XCTAssertEqual(sas.count, 2)
        // The ePDG's inbound SA is the phone's outbound one, and the other way round.
        let inSA = try XCTUnwrap(sas.first { $0["dir"] as? String == "in" })
        let outSA = try XCTUnwrap(sas.first { $0["dir"] as? String == "out" })
        XCTAssertEqual(inSA["spi"] as? Int, Int(child.outboundSPI))
        XCTAssertEqual(outSA["spi"] as? Int, Int(child.inboundSPI))
        XCTAssertEqual(inSA["cipher_key"] as? String, child.outboundEncryptionKey.map { String(format: "%02x", $0) }.joined())
        XCTAssertEqual(inSA["type"] as? String, "IPv4")
        XCTAssertEqual(inSA["mode"] as? String, "tunnel")
        XCTAssertEqual(inSA["imsi"] as? String, "001010000000001")
        XCTAssertEqual(inSA["src"] as? String, "127.0.0.1")
        XCTAssertEqual(sas.map { $0["ue_id"] as? Int }, [ueID, ueID], "ipsec and ue_get name the UE alike")

        // The imei filter: the IMEI, or the IMEISV of the same phone (same TAC and SNR).
        let byIMEI = try ask(port, [#"{"message":"ue_get","imei":"353490069873319"}"#, #"{"message":"ue_get","imei":"3534900698733105"}"#,
                                    #"{"message":"ue_get","imei":"353490069873400"}"#])
        XCTAssertEqual((byIMEI[1]["ue_list"] as? [[String: Any]])?.map { $0["ue_id"] as? Int }, [ueID], "\(byIMEI[1])")
        XCTAssertEqual((byIMEI[2]["ue_list"] as? [Any])?.count, 1, "\(byIMEI[2])")
        XCTAssertEqual((byIMEI[3]["ue_list"] as? [Any])?.count, 0, "\(byIMEI[3])")

        XCTAssertEqual(r[4]["error"] as? String, "Unknown message: no_such_thing")
        XCTAssertEqual(r[4]["message"] as? String, "no_such_thing")
        XCTAssertEqual(r[4]["message_id"] as? Int, 3)
        XCTAssertTrue((r[5]["error"] as? String)?.hasPrefix("Invalid JSON") == true, "\(r[5])")
        // The connection still answers after malformed JSON.
        XCTAssertEqual((r[6]["ue_list"] as? [Any])?.count, 0, "\(r[6])")

        // Errors for a UE that is not attached, and for a missing APN.
        let e = try ask(port, [#"{"message":"epdg_pdn_reestab","imsi":"001010000000009","apn":"ims"}"#,
                               #"{"message":"epdg_send_p_cscf","imsi":"001010000000001"}"#])
        XCTAssertEqual(e[1]["error"] as? String, "No PDN connection of IMSI 001010000000009 for APN ims")
        XCTAssertEqual(e[2]["error"] as? String, "Missing apn")

        // P-CSCF restoration: the phone gets the APN's P-CSCF addresses in an INFORMATIONAL.
        let p = try ask(port, [#"{"message":"epdg_send_p_cscf","nai":"0001010000000001@nai.epc.mnc001.mcc001.3gppnetwork.org","apn":"ims"}"#])
        XCTAssertNil(p[1]["error"], "\(p[1])")
        XCTAssertTrue(phoneLogs(attach, natT: natt.port).contains { $0.contains("network sent P-CSCF") }, log())

        // PDN re-establishment: the phone receives Delete with REACTIVATION_REQUESTED_CAUSE.
        let q = try ask(port, [#"{"message":"epdg_pdn_reestab","imsi":"001010000000001","apn":"IMS"}"#])
        XCTAssertNil(q[1]["error"], "\(q[1])")
        let lines = phoneLogs(attach, natT: natt.port)
        XCTAssertTrue(lines.contains { $0.contains("network requests PDN reactivation (cause 39)") }, "\(lines)\n\(log())")
        XCTAssertTrue(waitUntil(3) { (try? self.ask(port, [#"{"message":"ue_get"}"#]))?.last?["ue_list"].map { ($0 as? [Any])?.isEmpty == true } == true },
                      "the UE is gone after the reactivation request")
    }

    /// The IKE log lines of the phone for what the ePDG sends it within a second.
    func phoneLogs(_ a: LoopbackAttach, natT: UInt16) -> [String] {
        var lines: [String] = []
        let epdg = IPAddress("127.0.0.1")!
        let deadline = Date().addingTimeInterval(2)
        while Date() < deadline, let (d, from) = a.sock.receive(timeout: 0.5) {
            let msg = from == natT ? Array(d.dropFirst(4)) : d
            for act in a.ue.handle(datagram: msg, from: IKEEndpoint(epdg, from), to: IKEEndpoint(epdg, a.sock.port), now: 2) {
                if case let .log(e) = act { lines.append(e.message) }
                if case let .send(bytes, _, to) = act { a.sock.send(to.port == natT ? [0, 0, 0, 0] + bytes : bytes, port: to.port) }
            }
        }
        return lines
    }

    /// Broken frames close that connection alone (with the close code naming the fault); the
    /// server accepts the next one.
    func testBadFramesCloseOnlyThatConnection() throws {
        var o = EndToEndTests.options(dir: dir)
        o.mmeComAddr = "127.0.0.1:0"; o.imsComAddr = "127.0.0.1:0"
        let core = try VoWiFiCore(options: o)
        try core.start()
        defer { core.stop() }
        XCTAssertEqual(core.remoteAPIs.map(\.handler.type), ["MME", "IMS"])
        let port = core.remoteAPIs[0].localAddress.port
        let cases = [("810268690000", "03ea", "unmasked client frame"),          // text "hi", no mask bit: 1002
                     ("81ff4000000000000000", "03f1", "exceeds the 1048576-byte limit")]   // 2^62 bytes announced: 1009
        for (frame, code, logged) in cases {
            let out = try Self.run([Self.script, "raw", "127.0.0.1", "\(port)", frame])
            let r = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
            let hex = try XCTUnwrap(r["received"] as? String)
            XCTAssertTrue(hex.hasPrefix("88"), "a close frame: \(hex)")
            XCTAssertEqual(String(hex.dropFirst(4).prefix(4)), code, hex)
            XCTAssertEqual(r["eof"] as? Bool, true, "the server closed the TCP connection")
            XCTAssertTrue(log().contains(logged), log())
        }
        let again = try ask(port, [#"{"message":"config_get"}"#])
        XCTAssertEqual(again[1]["type"] as? String, "MME")
        // The IMS API: its own banner; every ue_db subscriber listed, nobody registered yet.
        let ims = try ask(core.remoteAPIs[1].localAddress.port, [#"{"message":"users_get"}"#, #"{"message":"mt_call","impu":"tel:0600"}"#])
        XCTAssertEqual(ims[0]["type"] as? String, "IMS")
        let users = try XCTUnwrap(ims[1]["users"] as? [[String: Any]], "\(ims[1])")
        let ueDB = core.ims.ueDB.isEmpty ? core.mme.expandedUEDB : core.ims.expandedUEDB
        XCTAssertEqual(users.count, ueDB.filter { $0.impi != nil || $0.imsi != nil }.count)
        XCTAssertTrue(users.contains { $0["impi"] as? String == "001010000000001@ims.mnc001.mcc001.3gppnetwork.org" })
        XCTAssertTrue(users.allSatisfy { ($0["bindings"] as? [Any])?.isEmpty == true })
        XCTAssertEqual(ims[2]["error"] as? String, "No registered binding for tel:0600")
    }

    /// The IMS API over an IMS cluster on loopback: a phone registers over UDP, `users_get`
    /// lists its binding, and `mt_call` makes the IMS send it an INVITE.
    func testIMSUsersGetAndMTCallAfterRegister() throws {
        let ims = try LoopbackIMSCluster()
        defer { ims.stop() }
        let server = try imsAPI(ims)
        defer { _ = try? ims.cluster.group.loops[0].submit { server.stop() } }
        let phone = try LoopbackUDPPhone(user: "user1")
        XCTAssertEqual(try phone.register(to: "127.0.0.1", port: ims.ports[0])?.statusCode, 200, ims.log)

        let domain = LoopbackIMSCluster.domain
        let r = try ask(server.localAddress.port, [#"{"message":"users_get"}"#, #"{"message":"mt_call","impu":"sip:user1@\#(domain)","message_id":1}"#])
        XCTAssertEqual(r[0]["name"] as? String, "ims-lab")
        let users = try XCTUnwrap(r[1]["users"] as? [[String: Any]], "\(r[1])")
        XCTAssertEqual(users.map { $0["impi"] as? String }, ["user1", "user2"], "every subscriber, registered or not")
        XCTAssertEqual((users[1]["bindings"] as? [Any])?.count, 0)
        let binding = try XCTUnwrap((users.first?["bindings"] as? [[String: Any]])?.first)
        XCTAssertEqual(binding["uri"] as? String, "sip:user1@\(phone.hostPort)")
        XCTAssertTrue((binding["impu"] as? [String])?.contains { $0.contains("user1") } == true, "\(binding)")
        XCTAssertTrue((590...600).contains(binding["expires"] as? Int ?? 0), "\(binding)")

        let session = try XCTUnwrap(r[2]["session_id"] as? String, "\(r[2])")
        let invite = try XCTUnwrap(try phone.receive { $0.method == "INVITE" }, ims.log).0
        XCTAssertEqual(try invite.callID(), session)
    }

    /// users_get names a binding's IMEI from its +sip.instance (RFC 7254 §4 URN, as the callbox's
    /// `imei` binding field); other instances and malformed URNs give none.
    func testIMEIOfSIPInstance() {
        XCTAssertEqual(IMSRemoteAPI.imei(ofInstance: "\"<urn:gsma:imei:35902707-293054-0>\""), "359027072930540")
        XCTAssertEqual(IMSRemoteAPI.imei(ofInstance: "<urn:gsma:imei:35902707-293054-0;svn=12>"), "359027072930540")
        for other in ["<urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6>", "<urn:gsma:imei:3590270-293054-0>",
                      "<urn:gsma:imei:35902707-29305a-0>", "<urn:gsma:imei:35902707293054>", ""] {
            XCTAssertNil(IMSRemoteAPI.imei(ofInstance: other), other)
        }
    }

    func logged(_ ims: LoopbackIMSCluster, _ text: String) -> Bool { ims.lines.values.contains { $0.contains(text) } }

    /// An IMS API over a loopback IMS cluster, stopped by the caller.
    func imsAPI(_ ims: LoopbackIMSCluster, comAuth: ComAuthConfig? = nil) throws -> RemoteAPIServer {
        let loop = ims.cluster.group.loops[0]
        let handler = IMSRemoteAPI(name: "ims-lab", cluster: ims.cluster, comAuth: comAuth)
        let logger = ims.cluster.logger
        return try loop.submit { try RemoteAPIServer.start(SocketAddress(host: "127.0.0.1", port: 0), on: loop, handler: handler, logger: logger) }
    }

    /// com_auth: the client (Python's hmac, an independent HMAC-SHA256) is refused before it
    /// answers, gets a new challenge after a wrong password, and is served after the right one.
    func testComAuthChallenge() throws {
        let ims = try LoopbackIMSCluster()
        defer { ims.stop() }
        let server = try imsAPI(ims, comAuth: ComAuthConfig(password: "s3cret"))
        defer { _ = try? ims.cluster.group.loops[0].submit { server.stop() } }
        let r = try ask(server.localAddress.port, [#"{"message":"users_get","message_id":1}"#, "@auth:wrong", "@auth:s3cret",
                                                   #"{"message":"users_get"}"#])
        XCTAssertEqual(r[0]["message"] as? String, "authenticate")
        XCTAssertEqual(r[0]["type"] as? String, "IMS")
        XCTAssertEqual(r[0]["name"] as? String, "ims-lab")
        let first = try XCTUnwrap(r[0]["challenge"] as? String)
        XCTAssertGreaterThanOrEqual(first.count, 32)
        XCTAssertNil(r[0]["ready"])

        XCTAssertEqual(r[1]["error"] as? String, "Authentication not done")
        XCTAssertEqual(r[1]["message"] as? String, "users_get")
        XCTAssertEqual(r[1]["message_id"] as? Int, 1)
        XCTAssertNil(r[1]["users"])

        XCTAssertEqual(r[2]["message"] as? String, "authenticate")
        XCTAssertNotNil(r[2]["error"], "\(r[2])")
        let second = try XCTUnwrap(r[2]["challenge"] as? String, "\(r[2])")
        XCTAssertNotEqual(second, first, "a new challenge after a failure")

        XCTAssertEqual(r[3]["message"] as? String, "authenticate")
        XCTAssertNil(r[3]["error"], "\(r[3])")
        XCTAssertEqual(r[3]["ready"] as? Bool, true)
        XCTAssertEqual(r[3]["type"] as? String, "IMS")
        XCTAssertNotNil(r[4]["users"] as? [Any], "\(r[4])")
        XCTAssertTrue(logged(ims, "authentication failed"), ims.log)
    }

    /// The connection limit: the one past it is refused and logged, the open ones still answer.
    func testConnectionLimit() throws {
        let ims = try LoopbackIMSCluster()
        defer { ims.stop() }
        let server = try imsAPI(ims)
        defer { _ = try? ims.cluster.group.loops[0].submit { server.stop() } }
        let out = try Self.run([Self.script, "limit", "ws://127.0.0.1:\(server.localAddress.port)", "\(RemoteAPIServer.maxConnections)"])
        let r = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
        XCTAssertEqual(r["refused"] as? Bool, true, out)
        XCTAssertEqual((r["reply"] as? [String: Any])?["type"] as? String, "IMS", out)
        XCTAssertTrue(logged(ims, "refusing connection from 127.0.0.1:"), ims.log)
        XCTAssertTrue(logged(ims, "\(RemoteAPIServer.maxConnections) connections already open (the limit)"), ims.log)
        // Closed ones free their slots.
        XCTAssertTrue(waitUntil(3) { (try? ims.cluster.group.loops[0].submit { server.connectionCount }) == 0 })
    }

    /// Sockets that never send their HTTP request fill the slots only until the handshake timeout.
    func testIdleSocketsAreClosedAfterTheHandshakeTimeout() throws {
        let ims = try LoopbackIMSCluster()
        defer { ims.stop() }
        let server = try imsAPI(ims)
        defer { _ = try? ims.cluster.group.loops[0].submit { server.stop() } }
        let out = try Self.run([Self.script, "idle", "127.0.0.1", "\(server.localAddress.port)", "\(RemoteAPIServer.maxConnections)"])
        let r = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
        XCTAssertEqual(r["refused_while_idle"] as? Bool, true, out)
        let closed = try XCTUnwrap(r["closed_after"] as? [Double], out)
        let limit = Double(RemoteAPIServer.handshakeTimeout.components.seconds)
        XCTAssertEqual(closed.count, RemoteAPIServer.maxConnections, out)
        XCTAssertTrue(closed.allSatisfy { $0 > limit - 1 && $0 < limit + 3 }, out)
        XCTAssertEqual((r["reply_after"] as? [String: Any])?["type"] as? String, "IMS", out)
        XCTAssertTrue(logged(ims, "no WebSocket handshake within"), ims.log)
    }
}

/// Throughput of the SIP codec on a typical IMS INVITE (with an AMR-WB SDP), for `vowifi bench`.
public enum SIPBench {
    public struct Result: Sendable, CustomStringConvertible {
        public let messages: Int
        public let seconds: Double
        public let bytesPerMessage: Int
        /// Sum of serialized sizes, so the work cannot be optimized away.
        public let checksum: Int
        public var messagesPerSecond: Double { seconds > 0 ? Double(messages) / seconds : 0 }
        public var description: String {
            "sip parse+serialize: \(messages) INVITEs (\(bytesPerMessage) B) in \(String(Int(seconds * 1000))) ms = \(Int(messagesPerSecond)) msg/s"
        }
    }

    /// Parses (with validation and typed Via/From/To/CSeq access) and re-serializes the INVITE
    /// `iterations` times. `clock` returns seconds (the CLI passes a monotonic clock; SIP has no I/O).
    public static func parseSerialize(iterations: Int = 20_000, clock: () -> Double) throws -> Result {
        let bytes = typicalInvite
        var sink = 0
        let start = clock()
        for _ in 0..<iterations {
            let m = try SIPMessage(parsing: bytes)
            sink &+= try m.topVia().branch?.utf8.count ?? 0
            sink &+= m.serialized().count
        }
        let elapsed = clock() - start
        return Result(messages: iterations, seconds: elapsed, bytesPerMessage: bytes.count, checksum: sink)
    }

    /// A phone's INVITE to the echo number over the ePDG (IPv6 inner addresses, 3GPP headers, AMR-WB offer).
    public static let typicalInvite: [UInt8] = {
        let sdp = [
            "v=0", "o=rue 3251 3251 IN IP6 2001:db8:3000:1::2", "s=-", "b=AS:41", "t=0 0",
            "m=audio 31000 RTP/AVP 116 107 118 96 111 110", "c=IN IP6 2001:db8:3000:1::2", "b=AS:41",
            "a=rtpmap:116 AMR-WB/16000/1", "a=fmtp:116 mode-change-capability=2;max-red=0",
            "a=rtpmap:107 AMR-WB/16000/1", "a=fmtp:107 octet-align=1;mode-change-capability=2;max-red=0",
            "a=rtpmap:118 AMR/8000/1", "a=fmtp:118 octet-align=1;mode-change-capability=2;max-red=0",
            "a=rtpmap:96 AMR/8000/1", "a=fmtp:96 mode-change-capability=2;max-red=0",
            "a=rtpmap:111 telephone-event/16000", "a=fmtp:111 0-15", "a=rtpmap:110 telephone-event/8000", "a=fmtp:110 0-15",
            "a=curr:qos local none", "a=curr:qos remote none", "a=des:qos mandatory local sendrecv",
            "a=des:qos optional remote sendrecv", "a=sendrecv", "a=ptime:20", "a=maxptime:240",
        ].joined(separator: "\r\n") + "\r\n"
        let head = [
            "INVITE tel:666 SIP/2.0",
            "Via: SIP/2.0/UDP [2001:db8:3000:1::2]:5060;branch=z9hG4bK3773218089;rport",
            "Max-Forwards: 70",
            "Route: <sip:[2001:db8:3000:1::1]:5060;lr>",
            "From: <sip:001010123456789@ims.mnc001.mcc001.3gppnetwork.org>;tag=3420919823",
            "To: <tel:666>",
            "Call-ID: 3409203939@2001:db8:3000:1::2",
            "CSeq: 1 INVITE",
            "Contact: <sip:001010123456789@[2001:db8:3000:1::2]:5060>;+g.3gpp.icsi-ref=\"urn%3Aurn-7%3A3gpp-service.ims.icsi.mmtel\";+g.3gpp.mid-call",
            "Accept-Contact: *;+g.3gpp.icsi-ref=\"urn%3Aurn-7%3A3gpp-service.ims.icsi.mmtel\"",
            "P-Preferred-Service: urn:urn-7:3gpp-service.ims.icsi.mmtel",
            "Supported: 100rel,timer,precondition,replaces,sec-agree",
            "Allow: INVITE,ACK,OPTIONS,BYE,CANCEL,UPDATE,INFO,PRACK,NOTIFY,MESSAGE,REFER",
            "Session-Expires: 1800", "Min-SE: 90",
            "User-Agent: VoWiFi-Core-Bench",
            "P-Access-Network-Info: IEEE-802.11;i-wlan-node-id=ffffffffffff",
            "Content-Type: application/sdp",
            "Content-Length: \(sdp.utf8.count)",
        ].joined(separator: "\r\n")
        return Array((head + "\r\n\r\n" + sdp).utf8)
    }()
}

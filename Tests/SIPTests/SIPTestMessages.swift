/// Messages used by the parser tests: shapes of RFC 4475 torture tests (rebuilt from the RFC's
/// descriptions, CRLF line ends) and realistic IMS messages as phones send them.
enum TM {
    /// Joins lines with CRLF, adds the blank line and body; `{CL}` is replaced by the body length.
    static func msg(_ lines: [String], body: String = "") -> [UInt8] {
        let head = lines.joined(separator: "\r\n").replacingOccurrences(of: "{CL}", with: String(body.utf8.count))
        return Array((head + "\r\n\r\n" + body).utf8)
    }

    static let sdpSmall = "v=0\r\no=mhandley 29739 7272939 IN IP4 192.0.2.3\r\ns=-\r\nc=IN IP4 192.0.2.4\r\nt=0 0\r\nm=audio 49217 RTP/AVP 0 12\r\nm=video 3227 RTP/AVP 31\r\na=rtpmap:31 LPC\r\n"

    /// RFC 4475 §3.1.1.1 "wsinv": a short tortuous INVITE.
    static let wsinv = msg([
        "INVITE sip:vivekg@chair-dnrc.example.com;unknownparam SIP/2.0",
        "TO :",
        " sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n",
        "from   : \"J Rosenberg \\\\\\\"\"       <sip:jdrosen@example.com>",
        "  ;",
        "  tag = 98asjd8",
        "MaX-fOrWaRdS: 0068",
        "Call-ID: wsinv.ndaksdj@192.0.2.1",
        "Content-Length   : {CL}",
        "cseq: 0009",
        "  INVITE",
        "Via  : SIP  /   2.0",
        " /UDP",
        "    192.0.2.2;branch=390skdjuw",
        "s :",
        "NewFangledHeader:   newfangled value",
        " continued newfangled value",
        "UnknownHeaderWithUnusualValue: ;;,,;;,;",
        "Content-Type: application/sdp",
        "Route:",
        " <sip:services.example.com;lr;unknownwith=value;unknown-no-value>",
        "v:  SIP  / 2.0  / TCP     spindle.example.com   ;",
        "  branch  =   z9hG4bK9ikj8  ,",
        " SIP  /    2.0   / UDP  192.168.255.111   ; branch=",
        " z9hG4bK30239",
        "m:\"Quoted string \\\"\\\"\" <sip:jdrosen@example.com> ; newparam =",
        "      newvalue ;",
        "  secondparam ; q = 0.33",
    ], body: sdpSmall)

    /// RFC 4475 §3.1.1.2 "intmeth": the widest range of token characters.
    static let intmeth = msg([
        "!interesting-Method0123456789_*+`.%indeed'~ sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com SIP/2.0",
        "Via: SIP/2.0/TCP host1.example.com;branch=z9hG4bK-.!%66*_+`'~",
        "To: \"BEL:\\\u{07} NUL:\\\u{00} DEL:\\\u{7F}\" <sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*@example.com>",
        "From: token1~` token2'+_ token3*%!.- <sip:mundane@example.com>;fromParam''~+*_!.-%=\"работающий\";tag=_token~1'+`*%!-.",
        "Call-ID: intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{",
        "CSeq: 139122385 !interesting-Method0123456789_*+`.%indeed'~",
        "Max-Forwards: 255",
        "extensionHeader-!.%*+_`'~: 大停電",
        "Content-Length: 0",
    ])

    /// RFC 4475 §3.1.1.3 "esc01": % escapes in URIs.
    static let esc01 = msg([
        "INVITE sip:sips%3Auser%40example.com@example.net SIP/2.0",
        "To: sip:%75se%72@example.com",
        "From: <sip:I%20have%20spaces@example.net>;tag=938",
        "Max-Forwards: 87",
        "i: esc01.239409asdfakjkn23onasd0-3234",
        "CSeq: 234234 INVITE",
        "Via: SIP/2.0/UDP host5.example.net;branch=z9hG4bKkdjuw",
        "C: application/sdp",
        "Contact:",
        "  <sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31>",
        "Content-Length: {CL}",
    ], body: sdpSmall)

    /// RFC 4475 §3.1.1.6 "lwsdisp": no LWS between display name and `<`.
    static let lwsdisp = msg([
        "OPTIONS sip:user@example.com SIP/2.0",
        "To: sip:user@example.com",
        "From: caller<sip:caller@example.com>;tag=323",
        "Max-Forwards: 70",
        "Call-ID: lwsdisp.1234abcd@funky.example.com",
        "CSeq: 60 OPTIONS",
        "Via: SIP/2.0/UDP funky.example.com;branch=z9hG4bKkdjuw",
        "l: 0",
    ])

    /// RFC 4475 §3.1.1.7 "longreq": long values and many Via headers.
    static let longreq: [UInt8] = {
        let extreme = String(repeating: "extreme", count: 30)
        var lines = [
            "INVITE sip:user@example.com SIP/2.0",
            "To: \"I have a user name of \(extreme) proportion\"<sip:user@example.com:6000;unknownparam1=very\(String(repeating: "long", count: 40))value;longparam\(String(repeating: "name", count: 30))=shortvalue;very\(String(repeating: "long", count: 40))ParameterNameWithNoValue>",
            "F: sip:\(String(repeating: "amazinglylongcallername", count: 10))@example.net;tag=12\(String(repeating: "982", count: 100))424;unknownheaderparam\(String(repeating: "name", count: 20))=unknowheaderparam\(String(repeating: "value", count: 20));unknownValueless\(String(repeating: "param", count: 20))name",
            "Call-ID: longreq.one\(String(repeating: "really", count: 40))longcallid",
            "CSeq: 3882340 INVITE",
            "Unknown-\(String(repeating: "Long", count: 30))-Name: unknown-\(String(repeating: "long", count: 30))-value; unknown-\(String(repeating: "long", count: 20))-parameter-name = unknown-\(String(repeating: "long", count: 20))-parameter-value",
        ]
        for i in stride(from: 34, through: 1, by: -1) {
            lines.append("\(i % 2 == 0 ? "Via" : "v"): SIP/2.0/TCP sip\(i).example.com;branch=z9hG4bK\(i)")
        }
        lines += ["Max-Forwards: 68",
                  "Contact: <sip:\(String(repeating: "amazinglylongcallername", count: 10))@host5.example.net>",
                  "Content-Type: application/sdp", "l: {CL}"]
        return msg(lines, body: sdpSmall)
    }()

    /// RFC 4475 §3.1.1.12 "unreason": a UTF-8 reason phrase and no Max-Forwards in a response.
    static let unreason = msg([
        "SIP/2.0 200 = 2**3 * 5**2 но сто девяносто девять - простое",
        "Via: SIP/2.0/UDP 192.0.2.198;branch=z9hG4bK1324923",
        "Call-ID: unreason.1234ksdfak3j2erwedfsASdf",
        "CSeq: 35 INVITE",
        "From: sip:user@example.com;tag=11141343",
        "To: sip:user@example.edu;tag=2229",
        "Content-Length: 0",
    ])

    /// RFC 4475 §3.1.1.13 "noreason": empty reason phrase.
    static let noreason = msg([
        "SIP/2.0 100 ",
        "Via: SIP/2.0/UDP 192.0.2.105;branch=z9hG4bK2398ndaoe",
        "Call-ID: noreason.asndj203insdf99223ndf",
        "CSeq: 35 INVITE",
        "From: <sip:user@example.com>;tag=39ansfi3",
        "To: <sip:user@example.edu>;tag=902jndnke3",
        "Content-Length: 0",
    ])

    /// RFC 4475 §3.1.1.9 "semiuri" / §3.1.1.10 "transports" / §3.1.1.11 "mpart01"-like unknown schemes.
    static let unknownScheme = msg([
        "OPTIONS nobodyKnowsThisScheme:totallyopaquecontent SIP/2.0",
        "To: sip:user@example.com",
        "From: sip:caller@example.net;tag=384",
        "Max-Forwards: 3",
        "Call-ID: unksm.239423mnsadf3j23lj42--sedfnm234",
        "CSeq: 1392934 OPTIONS",
        "Via: SIP/2.0/UDP host5.example.net;branch=z9hG4bKkdjuw",
        "Content-Length: 0",
    ])

    /// RFC 4475 §4.x IPv6 references in the Request-URI, Via and Contact.
    static let ipv6 = msg([
        "REGISTER sip:[2001:db8::10] SIP/2.0",
        "To: sip:user@example.com",
        "From: sip:user@example.com;tag=81x2",
        "Via: SIP/2.0/UDP [2001:db8::9:1]:5070;branch=z9hG4bKas3-111;received=2001:db8::9:255;rport=5070",
        "Call-ID: SSG9559905523997077@hlau_4100",
        "Max-Forwards: 70",
        "Contact: \"Caller\" <sip:caller@[2001:db8::1]:5060>",
        "CSeq: 98176 REGISTER",
        "Content-Length: 0",
    ])

    // MARK: invalid (RFC 4475 §3.1.2)

    /// "badinv01": extraneous `;;` and `,,` separators.
    static let badinv01 = msg([
        "INVITE sip:user@example.com SIP/2.0",
        "To: sip:j.user@example.com",
        "From: sip:caller@example.net;;tag=134161461246",
        "Max-Forwards: 7",
        "Call-ID: badinv01.0ha0isndaksdjasdf3234nas",
        "CSeq: 8 INVITE",
        "Via: SIP/2.0/UDP 192.0.2.15;;,;,,",
        "Contact: \"Joe\" <sip:joe@example.org>;;;;",
        "Content-Length: 0",
    ])

    /// "clerr": Content-Length larger than the body.
    static let clerr = msg([
        "INVITE sip:user@example.com SIP/2.0",
        "Max-Forwards: 80",
        "To: sip:j.user@example.com",
        "From: sip:caller@example.net;tag=93942939o2",
        "Contact: <sip:caller@hungry.example.net>",
        "Call-ID: clerr.0ha0isndaksdjweiafasdk3",
        "CSeq: 8 INVITE",
        "Via: SIP/2.0/UDP host5.example.com;branch=z9hG4bK-39234-23523",
        "Content-Type: application/sdp",
        "Content-Length: 9999",
    ], body: "v=0\r\no=mhandley 29739 7272939 IN IP4 192.0.2.155\r\ns=-\r\n")

    /// "scalar02": CSeq and Max-Forwards beyond their ranges.
    static let scalar02 = msg([
        "REGISTER sip:example.com SIP/2.0",
        "Via: SIP/2.0/TCP host129.example.com;branch=z9hG4bK342sdfoi3",
        "To: <sip:user@example.com>",
        "From: <sip:user@example.com>;tag=239232jh3",
        "CSeq: 36893488147419103232 REGISTER",
        "Call-ID: scalar02.23o0pd9vanlq3wnrlnewofjas9ui32",
        "Max-Forwards: 300",
        "Expires: 1\(String(repeating: "0", count: 40))",
        "Contact: <sip:user@host129.example.com>;expires=280297596632815",
        "Content-Length: 0",
    ])

    /// "ltgtruri": Request-URI in angle brackets.
    static let ltgtruri = msg([
        "INVITE <sip:user@example.com> SIP/2.0",
        "To: sip:user@example.com",
        "From: sip:caller@example.net;tag=39291",
        "Max-Forwards: 23",
        "Call-ID: ltgtruri.1@192.0.2.5",
        "CSeq: 1 INVITE",
        "Via: SIP/2.0/UDP 192.0.2.5",
        "Content-Length: 0",
    ])

    /// "lwsruri": LWS inside the Request-URI.
    static let lwsruri = msg([
        "INVITE sip:user@example.com; lr SIP/2.0",
        "To: sip:user@example.com;tag=3xfe-9921883-z9f",
        "From: sip:caller@example.net;tag=231413434",
        "Max-Forwards: 5",
        "Call-ID: lwsruri.asdfasdoeoi2323-asdfwrn23-asd834rk423",
        "CSeq: 2130706432 INVITE",
        "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKhjhjqw32c",
        "Content-Length: 0",
    ])

    /// "lwsstart": several SPs in the request line.
    static let lwsstart = msg([
        "INVITE  sip:user@example.com  SIP/2.0",
        "Max-Forwards: 1",
        "To: sip:user@example.com",
        "From: sip:caller@example.net;tag=437",
        "Call-ID: lwsstart.dfknq234oi243099adsdfnawe3@example.com",
        "CSeq: 1 INVITE",
        "Via: SIP/2.0/UDP host1.example.com;branch=z9hG4bKkdju43234",
        "Content-Length: 0",
    ])

    /// "trws": trailing whitespace on the request line.
    static let trws = Array("OPTIONS sip:remote-target@example.com SIP/2.0  \r\nVia: SIP/2.0/TCP host1.examle.com;branch=z9hG4bK299342093\r\nTo: <sip:remote-target@example.com>\r\nFrom: <sip:local-resource@example.com>;tag=329429089\r\nCall-ID: trws.oicu34958239neffasdhr2345r\r\nAccept: application/sdp\r\nCSeq: 238923 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n".utf8)

    /// "badvers": SIP/7.0.
    static let badvers = msg([
        "OPTIONS sip:t.watson@example.org SIP/7.0",
        "Via:     SIP/7.0/UDP c.example.com;branch=z9hG4bKkdjuw",
        "Max-Forwards:     70",
        "From:    A. Bell <sip:a.g.bell@example.com>;tag=qweoiqpe",
        "To:      T. Watson <sip:t.watson@example.org>",
        "Call-ID: badvers.31417@c.example.com",
        "CSeq:    1 OPTIONS",
        "l: 0",
    ])

    /// "mismatch01": the CSeq method differs from the request method.
    static let mismatch01 = msg([
        "OPTIONS sip:user@example.com SIP/2.0",
        "To: sip:j.user@example.com",
        "From: sip:caller@example.net;tag=34525",
        "Max-Forwards: 6",
        "Call-ID: mismatch01.dj0234sxdfl3",
        "CSeq: 8 INVITE",
        "Via: SIP/2.0/UDP host.example.com;branch=z9hG4bKkdjuw",
        "l: 0",
    ])

    /// "quotbal": an unterminated quoted display name.
    static let quotbal = msg([
        "INVITE sip:user@example.com SIP/2.0",
        "To: \"Mr. J. User <sip:j.user@example.com>",
        "From: sip:caller@example.net;tag=93334",
        "Max-Forwards: 10",
        "Call-ID: quotbal.aksdj",
        "Contact: <sip:caller@host59.example.net>",
        "CSeq: 8 INVITE",
        "Via: SIP/2.0/UDP 192.0.2.16;branch=z9hG4bKkdjuw",
        "Content-Length: 0",
    ])

    /// "insuf": Call-ID, From, To missing.
    static let insuf = msg([
        "INVITE sip:user@example.com SIP/2.0",
        "CSeq: 193942 INVITE",
        "Via: SIP/2.0/UDP 192.0.2.95;branch=z9hG4bKkdj.insuf",
        "Content-Length: 0",
    ])

    /// "bigcode": a status code outside 100..699.
    static let bigcode = msg([
        "SIP/2.0 4294967301 better not break the receiver",
        "Via: SIP/2.0/UDP 192.0.2.105;branch=z9hG4bK2398ndaoe",
        "Call-ID: bigcode.asdof3uj203asdnf3429uasdhfas3ehjasdfas9i",
        "CSeq: 353494 INVITE",
        "From: <sip:user@example.com>;tag=39ansfi3",
        "To: <sip:user@example.edu>;tag=902jndnke3",
        "Content-Length: 0",
    ])

    /// Whitespace inside an addr-spec between `<` and `>` (§3.1.2.x "lwsaddr"-like).
    static let spaceInAngle = msg([
        "OPTIONS sip:user@example.org SIP/2.0",
        "Via: SIP/2.0/UDP c.example.com:5060;branch=z9hG4bKkdjuw",
        "Max-Forwards: 70",
        "From: Bell, Alexander <sip:a.g.bell@example.com>;tag=43",
        "To: Watson, Thomas < sip:t.watson@example.org >",
        "Call-ID: 31415@c.example.com",
        "CSeq: 1 OPTIONS",
        "Content-Length: 0",
    ])

    // MARK: IMS

    static let imsRegister = msg([
        "REGISTER sip:ims.mnc001.mcc001.3gppnetwork.org SIP/2.0",
        "Via: SIP/2.0/UDP [2001:db8:3000:1::2]:5060;branch=z9hG4bK1291871271;rport",
        "From: <sip:001010123456789@ims.mnc001.mcc001.3gppnetwork.org>;tag=1278375930",
        "To: <sip:001010123456789@ims.mnc001.mcc001.3gppnetwork.org>",
        "Call-ID: 2857617245@2001:db8:3000:1::2",
        "CSeq: 1 REGISTER",
        "Contact: <sip:001010123456789@[2001:db8:3000:1::2]:5060>;+sip.instance=\"<urn:gsma:imei:35902707-293054-0>\";+g.3gpp.icsi-ref=\"urn%3Aurn-7%3A3gpp-service.ims.icsi.mmtel\";+g.3gpp.smsip;audio;video",
        "Max-Forwards: 70",
        "Expires: 600000",
        "Supported: path,sec-agree",
        "Require: sec-agree",
        "Proxy-Require: sec-agree",
        "Allow: INVITE, ACK, OPTIONS, CANCEL, BYE, UPDATE, INFO, REFER, NOTIFY, MESSAGE, PRACK",
        "Authorization: Digest uri=\"sip:ims.mnc001.mcc001.3gppnetwork.org\",username=\"001010123456789@ims.mnc001.mcc001.3gppnetwork.org\",response=\"\",realm=\"ims.mnc001.mcc001.3gppnetwork.org\",nonce=\"\"",
        "Security-Client: ipsec-3gpp;prot=esp;mod=trans;spi-c=1111;spi-s=2222;port-c=5062;port-s=5064;ealg=null;alg=hmac-sha-1-96,ipsec-3gpp;prot=esp;mod=trans;spi-c=1111;spi-s=2222;port-c=5062;port-s=5064;ealg=aes-cbc;alg=hmac-md5-96",
        "User-Agent: Xiaomi_M2007J20CG_Android11",
        "P-Access-Network-Info: IEEE-802.11;i-wlan-node-id=ffffffffffff",
        "Content-Length: 0",
    ])

    static let amrwbSDP = [
        "v=0",
        "o=rue 3251 3251 IN IP6 2001:db8:3000:1::2",
        "s=-",
        "b=AS:41",
        "b=RR:1537",
        "b=RS:512",
        "t=0 0",
        "m=audio 31000 RTP/AVP 116 107 118 96 111 110",
        "c=IN IP6 2001:db8:3000:1::2",
        "b=AS:41",
        "b=RR:1537",
        "b=RS:512",
        "a=rtpmap:116 AMR-WB/16000/1",
        "a=fmtp:116 mode-change-capability=2;max-red=0",
        "a=rtpmap:107 AMR-WB/16000/1",
        "a=fmtp:107 octet-align=1;mode-change-capability=2;max-red=0",
        "a=rtpmap:118 AMR/8000/1",
        "a=fmtp:118 octet-align=1;mode-change-capability=2;max-red=0",
        "a=rtpmap:96 AMR/8000/1",
        "a=fmtp:96 mode-change-capability=2;max-red=0",
        "a=rtpmap:111 telephone-event/16000",
        "a=fmtp:111 0-15",
        "a=rtpmap:110 telephone-event/8000",
        "a=fmtp:110 0-15",
        "a=curr:qos local none",
        "a=curr:qos remote none",
        "a=des:qos mandatory local sendrecv",
        "a=des:qos optional remote sendrecv",
        "a=sendrecv",
        "a=rtcp:31001",
        "a=ptime:20",
        "a=maxptime:240",
    ].joined(separator: "\r\n") + "\r\n"

    static func imsInvite(to target: String = "tel:666", callID: String = "3409203939@2001:db8:3000:1::2", branch: String = "z9hG4bK3773218089") -> [UInt8] {
        msg([
            "INVITE \(target) SIP/2.0",
            "Via: SIP/2.0/UDP [2001:db8:3000:1::2]:5060;branch=\(branch);rport",
            "Max-Forwards: 70",
            "Route: <sip:[2001:db8:3000:1::1]:5060;lr>",
            "Proxy-Require: sec-agree",
            "Require: sec-agree",
            "From: <sip:001010123456789@ims.mnc001.mcc001.3gppnetwork.org>;tag=3420919823",
            "To: <\(target)>",
            "Call-ID: \(callID)",
            "CSeq: 1 INVITE",
            "Contact: <sip:001010123456789@[2001:db8:3000:1::2]:5060>;+g.3gpp.icsi-ref=\"urn%3Aurn-7%3A3gpp-service.ims.icsi.mmtel\";+g.3gpp.mid-call;+g.3gpp.srvcc-alerting;+g.3gpp.ps2cs-srvcc-orig-pre-alerting",
            "Accept-Contact: *;+g.3gpp.icsi-ref=\"urn%3Aurn-7%3A3gpp-service.ims.icsi.mmtel\"",
            "P-Preferred-Service: urn:urn-7:3gpp-service.ims.icsi.mmtel",
            "P-Early-Media: supported",
            "Supported: 100rel,timer,precondition,replaces,histinfo,sec-agree",
            "Allow: INVITE,ACK,OPTIONS,BYE,CANCEL,UPDATE,INFO,PRACK,NOTIFY,MESSAGE,REFER",
            "Accept: application/sdp,application/3gpp-ims+xml",
            "Session-Expires: 1800",
            "Min-SE: 90",
            "User-Agent: Xiaomi_M2007J20CG_Android11",
            "P-Access-Network-Info: IEEE-802.11;i-wlan-node-id=ffffffffffff;local-time-zone=\"UTC+01:00\"",
            "Security-Verify: ipsec-3gpp;alg=hmac-sha-1-96;ealg=null;spi-c=3333;spi-s=4444;port-c=5062;port-s=5064;prot=esp;mod=trans",
            "Content-Type: application/sdp",
            "Content-Length: {CL}",
        ], body: amrwbSDP)
    }
}

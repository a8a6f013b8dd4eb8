import IKEv2

/// EAP (RFC 3748) and EAP-AKA / AKA' attributes (RFC 4187, RFC 5448), MD5-Challenge:
/// decode, re-encode, decode again must give the same value.
let eapHarness = Harness(name: "eap", summary: "EAP packet, EAP-AKA/AKA' attributes, MD5-Challenge round trips") { data in
    inspectEAP(data)
    // The type-data alone, as EAP-AKA and MD5 see it.
    if let m = try? EAPAKAMessage(parsing: data) { checkAKA(m) }
    if let c = try? EAPMD5Challenge(parsing: data) {
        require((try? EAPMD5Challenge(parsing: c.serialize())) == c, "MD5-Challenge round trip")
    }
}

func inspectEAP(_ bytes: [UInt8]) {
    guard let p = try? EAPPacket(parsing: bytes) else { return }
    _ = p.description
    require((try? EAPPacket(parsing: p.serialize())) == p, "EAP packet round trip")
    guard p.type == EAPType.aka || p.type == EAPType.akaPrime, let m = try? EAPAKAMessage(parsing: p.typeData) else { return }
    checkAKA(m)
    // The packet with AT_MAC zeroed, as the MAC check builds it.
    let rebuilt = m.packet(code: p.code, identifier: p.identifier, method: p.type!)
    require((try? EAPPacket(parsing: rebuilt)) != nil, "rebuilt EAP-AKA packet does not decode")
    if let off = m.macValueOffset() { require(off + 16 <= rebuilt.count, "AT_MAC offset \(off) outside the packet") }
}

func checkAKA(_ m: EAPAKAMessage) {
    let bytes = m.serializeTypeData()
    guard let again = try? EAPAKAMessage(parsing: bytes) else { fatalError("re-encoded EAP-AKA message does not decode") }
    require(again == m, "EAP-AKA message changed in a round trip")
    _ = (m.rand, m.autn, m.res, m.auts, m.mac, m.identity, m.kdfs, m.kdfInput, m.clientErrorCode, m.notification)
}

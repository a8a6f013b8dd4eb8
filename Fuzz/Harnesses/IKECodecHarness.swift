import IKEv2
import Wire

/// IKEv2 message and payload decoding (Sources/IKEv2/Codec), and the EAP / EAP-AKA, AUTH,
/// Notify and CP contents an ePDG reads out of them. Whatever decodes must re-encode to bytes
/// that decode to the same value (up to what the codec drops: unknown transforms).
let ikeCodecHarness = Harness(name: "ike-codec", summary: "IKEv2 message/payload decode, re-encode round trip") { data in
    if let m = try? IKEMessage(parsing: data) {
        let wire = m.serialize()
        guard let again = try? IKEMessage(parsing: wire) else { fatalError("re-encoded IKE message does not decode") }
        var a = normalized(m), b = normalized(again)
        a.header.length = 0; b.header.length = 0
        require(a == b, "IKE message changed in a decode/encode/decode round trip")
        require(again.serialize() == wire, "IKE encoding is not a fixed point")
        inspect(m.payloads)
    }
    // The inner chain of a decrypted SK payload: the first byte names the first payload.
    if let first = data.first {
        var r = ByteReader(Array(data.dropFirst()))
        if let chain = try? Payload.parseChain(first: PayloadType(rawValue: first), &r) {
            var w = ByteWriter()
            Payload.serializeChain(chain, into: &w)
            var r2 = ByteReader(w.bytes)
            guard let again = try? Payload.parseChain(first: chain.first?.type ?? .none, &r2) else {
                fatalError("re-encoded payload chain does not decode")
            }
            require(again.map(normalized) == chain.map(normalized), "payload chain changed in a round trip")
            inspect(chain)
        }
    }
}

/// Drops what encoding does not keep: the flag that an unknown transform type was seen.
func normalized(_ m: IKEMessage) -> IKEMessage { IKEMessage(header: m.header, payloads: m.payloads.map(normalized)) }

func normalized(_ p: Payload) -> Payload {
    guard case var .sa(sa) = p else { return p }
    for i in sa.proposals.indices { sa.proposals[i].hasUnknownTransformType = false }
    return .sa(sa)
}

/// Reads what the SA code reads from each payload, and describes it as the logs do.
func inspect(_ payloads: [Payload]) {
    _ = payloads.unsupportedCritical
    for p in payloads {
        _ = p.type.description
        switch p {
        case let .eap(bytes): inspectEAP(bytes)
        case let .auth(a): _ = try? a.digitalSignatureParts(); _ = a.method.description
        case let .notify(n):
            _ = n.description
            if n.type == .DEVICE_IDENTITY, let d = DeviceIdentity(notifyData: n.data) {
                _ = d.description
                require(DeviceIdentity(notifyData: d.notifyData) == d, "DEVICE_IDENTITY round trip")
            }
        case let .idi(id), let .idr(id): _ = id.description; _ = id.idPrime
        case let .cp(cp): for a in cp.attributes { _ = a.description }
        case let .tsi(ts), let .tsr(ts):
            _ = ts.description
            for s in ts.selectors { for t in ts.selectors { _ = s.intersection(t) } }
        case let .sa(sa): for p in sa.proposals { _ = p.description }
        default: break
        }
    }
}

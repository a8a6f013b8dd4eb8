import Crypto
import IKEv2
import Wire

/// One PDN connection of a UE as `ue_get` reports it (a bearer in callbox terms).
public struct RemoteAPIBearer: Sendable {
    public var apn: String
    public var ipv4: String?
    public var ipv6: String?
    /// ESP payload bytes from the UE (its inbound SAs) and to it (outbound).
    public var ulBytes: UInt64
    public var dlBytes: UInt64
}

/// One UE with its PDN connections on one shard.
public struct RemoteAPIUE: Sendable {
    public var imsi: String
    /// From N(DEVICE_IDENTITY), when the phone sent it (TS 24.302 §8.2.9.2).
    public var imei: String?
    public var imeisv: String?
    public var bearers: [RemoteAPIBearer]
}

/// One direction of one Child SA as `ipsec` reports it.
public struct RemoteAPIESPSA: Sendable {
    public var ipv6: Bool
    public var inbound: Bool
    public var spi: UInt32
    public var imsi: String
    public var src: String, dst: String
    public var srcPrefix: [String], dstPrefix: [String]
    public var authentKey: String, cipherKey: String
}

/// What the remote API reads and asks of one ePDG shard. Every member runs on the shard's
/// loop: the SAs and counters are that loop's alone.
extension EPDGService {
    func remoteAPIUEs(imsi only: String?) -> [RemoteAPIUE] {
        (only.map { [$0] } ?? responder.imsis).compactMap { imsi in
            let sas = responder.sas(imsi: imsi)
            guard !sas.isEmpty else { return nil }
            let device = sas.compactMap(\.deviceIdentity).first
            let bearers = sas.map { sa in
                let child = sa.children.first { $0.innerIPv4 != nil || $0.innerIPv6 != nil } ?? sa.children.first
                let ul = sa.children.reduce(UInt64(0)) { $0 + (dataPlane.sad.inbound(spi: $1.inboundSPI)?.counters.bytes ?? 0) }
                let dl = sa.children.reduce(UInt64(0)) { $0 + (dataPlane.sad.outbound(spi: $1.outboundSPI)?.counters.bytes ?? 0) }
                return RemoteAPIBearer(apn: sa.apn, ipv4: child?.innerIPv4?.description, ipv6: child?.innerIPv6?.description,
                                       ulBytes: ul, dlBytes: dl)
            }
            return RemoteAPIUE(imsi: imsi, imei: device?.kind == .imei ? device?.digits : nil,
                               imeisv: device?.kind == .imeisv ? device?.digits : nil, bearers: bearers)
        }
    }

    func remoteAPIESPSAs() -> [RemoteAPIESPSA] {
        responder.imsis.flatMap { responder.sas(imsi: $0) }.flatMap { sa in
            sa.children.flatMap { d in
                [true, false].map { inbound in
                    let (src, dst) = inbound ? (d.remote, d.local) : (d.local, d.remote)
                    let (srcTS, dstTS) = inbound ? (d.remoteTS, d.localTS) : (d.localTS, d.remoteTS)
                    return RemoteAPIESPSA(ipv6: !src.address.isIPv4, inbound: inbound, spi: inbound ? d.inboundSPI : d.outboundSPI,
                                          imsi: d.imsi, src: src.address.description, dst: dst.address.description,
                                          srcPrefix: srcTS.map(IPsecSALog.selector), dstPrefix: dstTS.map(IPsecSALog.selector),
                                          authentKey: Hex.encode(inbound ? d.inboundIntegrityKey : d.outboundIntegrityKey),
                                          cipherKey: Hex.encode(inbound ? d.inboundEncryptionKey : d.outboundEncryptionKey))
                }
            }
        }
    }

    /// `epdg_pdn_reestab`: the number of IKE SAs asked to reactivate.
    func remoteAPIReestablish(imsi: String, apn: String?) -> Int {
        let n = responder.sas(imsi: imsi, apn: apn).count
        if n > 0 { perform(responder.requestReactivation(imsi: imsi, apn: apn, now: Self.seconds())) }
        return n
    }

    /// `epdg_send_p_cscf`: the number of IKE SAs the addresses were pushed on.
    func remoteAPISendPCSCF(imsi: String, apn: String?, addresses: [IPAddress]) -> Int {
        let actions = responder.sendPCSCF(imsi: imsi, apn: apn, addresses: addresses, now: Self.seconds())
        let n = actions.filter { if case .send = $0 { true } else { false } }.count
        perform(actions)
        return n
    }
}

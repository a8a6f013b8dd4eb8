import Crypto
import Wire

/// A UDP endpoint (outer address and port).
public struct IKEEndpoint: Hashable, Sendable, CustomStringConvertible {
    public var address: IPAddress
    public var port: UInt16
    public init(_ address: IPAddress, _ port: UInt16) { self.address = address; self.port = port }
    public var description: String { address.isIPv6 ? "[\(address)]:\(port)" : "\(address):\(port)" }
}

/// What one Child SA (a pair of ESP SAs) is, as handed to the ESP layer.
public struct ChildSADescription: Sendable, Equatable, CustomStringConvertible {
    /// The IKE SA this Child SA belongs to.
    public var ikeSPIi: UInt64
    public var ikeSPIr: UInt64
    /// SPI this side chose: ESP packets arriving here carry it.
    public var inboundSPI: UInt32
    /// SPI the peer chose: ESP packets sent from here carry it.
    public var outboundSPI: UInt32
    public var suite: ESPSuite
    /// Key material for `suite.encryption` (key | salt) and `suite.integrity`, per direction.
    public var inboundEncryptionKey: [UInt8]
    public var inboundIntegrityKey: [UInt8]
    public var outboundEncryptionKey: [UInt8]
    public var outboundIntegrityKey: [UInt8]
    /// Traffic selectors of this side and of the peer (tunnel mode: inner addresses).
    public var localTS: [TrafficSelector]
    public var remoteTS: [TrafficSelector]
    /// Outer endpoints; with `udpEncapsulation` ESP goes in UDP (RFC 3948) between them.
    public var local: IKEEndpoint
    public var remote: IKEEndpoint
    public var udpEncapsulation: Bool
    /// Inner addresses assigned to the phone by CFG_REPLY.
    public var innerIPv4: IPAddress?
    public var innerIPv6: IPAddress?
    /// Seconds until the ePDG rekeys (it starts at 90%); 0 = no lifetime (the phone side).
    public var lifetimeSeconds: Int
    /// Subscriber and APN, for logs and routing.
    public var imsi: String
    public var apn: String

    public var description: String {
        "Child SA in=0x\(Hex.spi(inboundSPI)) out=0x\(Hex.spi(outboundSPI)) \(suite) local=\(localTS.map(\.description)) remote=\(remoteTS.map(\.description))"
    }
}

/// Log levels, coarse to fine.
public enum IKELogLevel: Int, Sendable, Comparable {
    case error = 0, warning, info, debug
    public static func < (a: IKELogLevel, b: IKELogLevel) -> Bool { a.rawValue < b.rawValue }
}

/// One log line for the tester: layer "ikev2" or "eap", the SA it concerns.
public struct IKELogEvent: Sendable, Equatable, CustomStringConvertible {
    public var level: IKELogLevel
    public var layer: String
    public var spiI: UInt64
    public var message: String
    public var description: String { "[\(layer.uppercased())] \(Hex.spi(spiI)) \(message)" }
}

/// Facts about an IKE SA for the runtime and the operator.
public struct IKESAInfo: Sendable, Equatable {
    public var spiI: UInt64
    public var spiR: UInt64
    public var suite: IKESuite
    public var keys: IKEKeys
    public var local: IKEEndpoint
    public var remote: IKEEndpoint
    public var imsi: String
    public var apn: String
    /// This side's role in the SA (after a rekey it started, the ePDG is the initiator).
    public var isInitiator = false
    /// Our SPI in the SA.
    public var localSPI: UInt64 { isInitiator ? spiI : spiR }
}

/// What the IKE core asks its host to do. The host performs them in order.
public enum IKEAction: Sendable, Equatable {
    /// Send `bytes` (an IKE message, without the non-ESP marker) from `from` to `to`. When
    /// either port is not 500 the host prepends the 4-byte zero non-ESP marker (RFC 3948).
    case send(bytes: [UInt8], from: IKEEndpoint, to: IKEEndpoint)
    /// Install an inbound + outbound ESP SA pair.
    case installChildSA(ChildSADescription)
    /// Remove the ESP SA pair with these SPIs.
    case deleteChildSA(inboundSPI: UInt32, outboundSPI: UInt32)
    /// Call `poll(now:)` at or after this time.
    case armTimer(at: Double)
    case log(IKELogEvent)
    /// Authentication is complete and the IKE SA is up (keys included for key logging).
    case ikeSAEstablished(IKESAInfo)
    /// The IKE SA was rekeyed: the same peer and Child SAs now live under new SPIs and keys. The
    /// old SPIs' later `ikeSADeleted` then only ends the old keys, not the session.
    case ikeSARekeyed(oldSPIi: UInt64, oldSPIr: UInt64, new: IKESAInfo)
    /// A redundant IKE SA of a simultaneous rekey (RFC 7296 §2.8.2): it carries no session and
    /// lives only until its creator's Delete is answered, but its keys are here, so a
    /// capture of that Delete decrypts. On the ePDG its end is an `ikeSADeleted` for its SPIs.
    case ikeSARedundant(IKESAInfo)
    /// The IKE SA is gone (deleted, failed, timed out); `reason` says why.
    case ikeSADeleted(spiI: UInt64, spiR: UInt64, reason: String)
    /// The peer is now at `remote` (NAT rebinding proven by a protected message, RFC 7296
    /// §2.23, or MOBIKE UPDATE_SA_ADDRESSES, RFC 4555): the host sends the SA's ESP there.
    case peerAddressChanged(spiI: UInt64, spiR: UInt64, remote: IKEEndpoint, local: IKEEndpoint)
}

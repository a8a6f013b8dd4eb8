import Foundation
import IMS

/// What `vowifi run --events` prints, one line each: a phone attached or detached, an IMS
/// registration, a call starting or ending.
public enum CoreEvent: Sendable, Equatable, CustomStringConvertible {
    case attach(imsi: String, apn: String, peer: String, ipv4: String?, ipv6: String?)
    case attachFailed(imsi: String?, peer: String, reason: String)
    case detach(imsi: String, reason: String)
    case register(impi: String, contact: String, expires: UInt32)
    case deregister(impi: String, contact: String)
    case registerFailed(impi: String, reason: String)
    case callStart(callID: String, from: String, to: String, kind: String)
    case callEnd(callID: String, reason: String)

    /// `attach imsi=001010000000001 apn=ims peer=127.0.0.1:4500 ipv4=192.168.4.2`.
    public var description: String {
        switch self {
        case let .attach(imsi, apn, peer, v4, v6):
            return "attach imsi=\(imsi) apn=\(apn) peer=\(peer)" + (v4.map { " ipv4=\($0)" } ?? "") + (v6.map { " ipv6=\($0)" } ?? "")
        case let .attachFailed(imsi, peer, reason):
            return "attach-failed" + (imsi.map { " imsi=\($0)" } ?? "") + " peer=\(peer) reason=\"\(reason)\""
        case let .detach(imsi, reason): return "detach imsi=\(imsi) reason=\"\(reason)\""
        case let .register(impi, contact, expires): return "register impi=\(impi) contact=\(contact) expires=\(expires)"
        case let .deregister(impi, contact): return "deregister impi=\(impi) contact=\(contact)"
        case let .registerFailed(impi, reason): return "register-failed impi=\(impi) reason=\"\(reason)\""
        case let .callStart(id, from, to, kind): return "call-start call_id=\(id) from=\(from) to=\(to) kind=\(kind)"
        case let .callEnd(id, reason): return "call-end call_id=\(id) reason=\"\(reason)\""
        }
    }

    /// The IMS events worth a line (nil for the others).
    public init?(_ e: IMSEvent) {
        switch e {
        case let .registered(impi, contact, expires): self = expires == 0 ? .deregister(impi: impi, contact: contact) : .register(impi: impi, contact: contact, expires: expires)
        case let .deregistered(impi, contact): self = .deregister(impi: impi, contact: contact)
        case let .authenticationFailed(impi, reason): self = .registerFailed(impi: impi, reason: reason)
        case let .callStarted(id, from, to, kind): self = .callStart(callID: id, from: from, to: to, kind: kind)
        case let .callEnded(id, reason): self = .callEnd(callID: id, reason: reason)
        default: return nil
        }
    }

    /// `HH:MM:SS.mmm <event>` as `--events` prints it.
    public var line: String { LogFileSink.stamp(.short, us: false) + " " + description }
}

/// An RTP packet (RFC 3550 §5.1): the 12-byte fixed header, CSRCs, an optional header
/// extension (skipped), padding (removed) and the payload.
public struct RTPPacket: Sendable, Equatable {
    public var marker: Bool
    public var payloadType: UInt8
    public var sequenceNumber: UInt16
    public var timestamp: UInt32
    public var ssrc: UInt32
    public var csrcs: [UInt32]
    public var payload: [UInt8]

    public init(marker: Bool = false, payloadType: UInt8, sequenceNumber: UInt16, timestamp: UInt32, ssrc: UInt32,
                csrcs: [UInt32] = [], payload: [UInt8]) {
        self.marker = marker; self.payloadType = payloadType; self.sequenceNumber = sequenceNumber
        self.timestamp = timestamp; self.ssrc = ssrc; self.csrcs = csrcs; self.payload = payload
    }

    /// V=2, P=0, X=0, CC, M, PT, sequence, timestamp, SSRC, CSRCs, payload.
    public func serialized() -> [UInt8] {
        var b: [UInt8] = []
        b.reserveCapacity(12 + 4 * csrcs.count + payload.count)
        b.append(0x80 | UInt8(csrcs.count & 0x0F))
        b.append((marker ? 0x80 : 0) | (payloadType & 0x7F))
        b.append(UInt8(sequenceNumber >> 8)); b.append(UInt8(sequenceNumber & 0xFF))
        for v in [timestamp, ssrc] + csrcs.prefix(15) {
            b.append(UInt8(v >> 24)); b.append(UInt8((v >> 16) & 0xFF)); b.append(UInt8((v >> 8) & 0xFF)); b.append(UInt8(v & 0xFF))
        }
        b.append(contentsOf: payload)
        return b
    }

    public init(parsing b: [UInt8]) throws {
        guard b.count >= 12 else { throw RTPError.truncated(b.count) }
        guard b[0] >> 6 == 2 else { throw RTPError.badVersion(b[0] >> 6) }
        func u32(_ o: Int) -> UInt32 { UInt32(b[o]) << 24 | UInt32(b[o + 1]) << 16 | UInt32(b[o + 2]) << 8 | UInt32(b[o + 3]) }
        let cc = Int(b[0] & 0x0F)
        var off = 12 + 4 * cc
        guard b.count >= off else { throw RTPError.truncated(b.count) }
        if b[0] & 0x10 != 0 {
            guard b.count >= off + 4 else { throw RTPError.truncated(b.count) }
            off += 4 + 4 * (Int(b[off + 2]) << 8 | Int(b[off + 3]))
            guard b.count >= off else { throw RTPError.truncated(b.count) }
        }
        var end = b.count
        if b[0] & 0x20 != 0 {
            let pad = Int(b[b.count - 1])
            guard pad >= 1, end - pad >= off else { throw RTPError.badPadding(pad) }
            end -= pad
        }
        marker = b[1] & 0x80 != 0
        payloadType = b[1] & 0x7F
        sequenceNumber = UInt16(b[2]) << 8 | UInt16(b[3])
        timestamp = u32(4)
        ssrc = u32(8)
        csrcs = (0..<cc).map { u32(12 + 4 * $0) }
        payload = Array(b[off..<end])
    }
}

public enum RTPError: Error, Equatable, Sendable, CustomStringConvertible {
    case truncated(Int)
    case badVersion(UInt8)
    case badPadding(Int)
    public var description: String {
        switch self {
        case .truncated(let n): "RTP packet truncated (\(n) bytes)"
        case .badVersion(let v): "RTP version \(v), expected 2"
        case .badPadding(let p): "RTP padding count \(p) exceeds the packet"
        }
    }
}

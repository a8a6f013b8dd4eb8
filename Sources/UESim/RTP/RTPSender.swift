/// Sends the known test pattern as RTP: one packet per packet time (20 ms), sequence +1 and
/// timestamp + clockRate × ptime (320 at AMR-WB's 16 kHz) per packet (RFC 3550 §5.1, RFC 4867 §4.1).
/// The payload carries the packet index and sequence number so an echo can be matched and checked
/// even if the echoing side rewrites the RTP header.
public struct RTPSender: Sendable {
    public let ssrc: UInt32
    public let payloadType: UInt8
    public let clockRate: UInt32
    public let packetTime: Double
    public let payloadSize: Int
    public private(set) var sequenceNumber: UInt16
    public private(set) var timestamp: UInt32
    /// Packets sent so far (the index of the next one).
    public private(set) var index: UInt32 = 0

    /// `payloadSize` defaults to 33 bytes (an AMR-WB 12.65 kbit/s frame with its header); at least 8.
    public init(ssrc: UInt32, payloadType: UInt8, clockRate: UInt32 = 16000, packetTime: Double = 0.02,
                initialSequence: UInt16 = 0, initialTimestamp: UInt32 = 0, payloadSize: Int = 33) {
        self.ssrc = ssrc; self.payloadType = payloadType; self.clockRate = clockRate; self.packetTime = packetTime
        self.payloadSize = max(8, payloadSize)
        sequenceNumber = initialSequence; timestamp = initialTimestamp
    }

    /// RTP timestamp units per packet: 320 for 16 kHz × 20 ms.
    public var samplesPerPacket: UInt32 { UInt32((Double(clockRate) * packetTime).rounded()) }

    /// The next packet; the first carries the marker bit (start of a talkspurt, RFC 3551 §4.1).
    public mutating func nextPacket() -> RTPPacket {
        let p = RTPPacket(marker: index == 0, payloadType: payloadType, sequenceNumber: sequenceNumber, timestamp: timestamp,
                          ssrc: ssrc, payload: RTPSender.testPattern(index: index, sequenceNumber: sequenceNumber, size: payloadSize))
        index &+= 1
        sequenceNumber &+= 1
        timestamp &+= samplesPerPacket
        return p
    }

    /// index (4 bytes) | sequence number (2) | bytes (index·31 + i) mod 256.
    public static func testPattern(index: UInt32, sequenceNumber: UInt16, size: Int) -> [UInt8] {
        var p = [UInt8](repeating: 0, count: max(8, size))
        p[0] = UInt8(index >> 24); p[1] = UInt8((index >> 16) & 0xFF); p[2] = UInt8((index >> 8) & 0xFF); p[3] = UInt8(index & 0xFF)
        p[4] = UInt8(sequenceNumber >> 8); p[5] = UInt8(sequenceNumber & 0xFF)
        for i in 6..<p.count { p[i] = UInt8(truncatingIfNeeded: index &* 31 &+ UInt32(i)) }
        return p
    }

    /// The index and sequence number a test-pattern payload claims, if it is long enough.
    public static func patternHeader(_ payload: [UInt8]) -> (index: UInt32, sequenceNumber: UInt16)? {
        guard payload.count >= 8 else { return nil }
        let i = UInt32(payload[0]) << 24 | UInt32(payload[1]) << 16 | UInt32(payload[2]) << 8 | UInt32(payload[3])
        return (i, UInt16(payload[4]) << 8 | UInt16(payload[5]))
    }
}

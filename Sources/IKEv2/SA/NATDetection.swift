import Crypto

/// NAT_DETECTION_*_IP data (RFC 7296 §2.23): SHA-1(SPIi | SPIr | IP address | port).
enum NATDetection {
    static func hash(spiI: UInt64, spiR: UInt64, _ e: IKEEndpoint) -> [UInt8] {
        Digest.hash(.sha1, KeySchedule.be64(spiI) + KeySchedule.be64(spiR) + e.address.bytes + [UInt8(e.port >> 8), UInt8(e.port & 0xff)])
    }
}

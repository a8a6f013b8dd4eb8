import Crypto

/// ESP packet protection (RFC 4303 §3.3, §3.4) for tunnel-mode Child SAs: an inner IP
/// packet becomes SPI | Sequence Number | IV | encrypted(payload | padding | pad length |
/// next header) | ICV, and back. Works in one buffer per packet.
public enum ESPPacket {
    public enum Outcome: Equatable, Sendable {
        /// The inner packet is `packet[range]`; `nextHeader` is 4 (IPv4) or 41 (IPv6).
        case inner(range: Range<Int>, nextHeader: UInt8, sequence: UInt64)
        case dropped(ESPDropReason)
    }

    /// Encrypts `inner` for `sa` (outbound). Returns the ESP packet (without UDP header),
    /// or a drop reason (sequence space exhausted, hard lifetime).
    public static func seal(_ inner: UnsafeRawBufferPointer, nextHeader: UInt8, sa: ESPSecurityAssociation,
                            explicitIV: [UInt8]? = nil) -> Result<[UInt8], ESPDropReason> {
        let t = sa.transform
        // RFC 4303 §3.3.3: the counter must not cycle; without ESN it stops at 2^32-1.
        if (!sa.esn && sa.sequence >= 0xFFFF_FFFF) || sa.sequence == UInt64.max {
            sa.counters.drop(.sequenceExhausted); return .failure(.sequenceExhausted)
        }
        if let hard = sa.lifetime.hardBytes, sa.counters.bytes >= hard {
            sa.counters.drop(.expired); return .failure(.expired)
        }
        sa.sequence += 1
        let seq = sa.sequence
        let body = inner.count + 2
        let padded = (body + t.alignment - 1) / t.alignment * t.alignment
        let padLength = padded - body
        let ivStart = 8, ptStart = 8 + t.ivLength
        var out = [UInt8](repeating: 0, count: ptStart + padded + t.icvLength)
        let spi = sa.spi
        let ok: Bool = out.withUnsafeMutableBytes { o in
            o.storeBytes(of: spi.bigEndian, toByteOffset: 0, as: UInt32.self)
            o.storeBytes(of: UInt32(truncatingIfNeeded: seq).bigEndian, toByteOffset: 4, as: UInt32.self)
            // IV: given (tests), the sequence number for counter modes, or random for CBC.
            if let explicitIV { o.baseAddress!.advanced(by: ivStart).copyMemory(from: explicitIV, byteCount: min(explicitIV.count, t.ivLength)) }
            else if t.ivFromSequence { o.storeBytes(of: seq.bigEndian, toByteOffset: ivStart, as: UInt64.self) }
            else if t.ivLength > 0 { fillRandom(UnsafeMutableRawBufferPointer(rebasing: o[ivStart..<ptStart])) }
            // Plaintext, self-describing padding 1, 2, 3, ... (RFC 4303 §2.4), pad length, next header.
            o.baseAddress!.advanced(by: ptStart).copyMemory(from: inner.baseAddress!, byteCount: inner.count)
            for i in 0..<padLength { o[ptStart + inner.count + i] = UInt8(truncatingIfNeeded: i + 1) }
            o[ptStart + padded - 2] = UInt8(padLength)
            o[ptStart + padded - 1] = nextHeader
            let iv = UnsafeRawBufferPointer(rebasing: o[ivStart..<ptStart])
            let payload = UnsafeMutableRawBufferPointer(rebasing: o[ptStart..<(ptStart + padded)])
            let icv = UnsafeMutableRawBufferPointer(rebasing: o[(ptStart + padded)...])
            do {
                if t.encryption.isAEAD {
                    try withAAD(spi: spi, seq: seq, esn: sa.esn, iv: t.isGMAC ? iv : nil) { aad in
                        try t.cipher.encrypt(iv: iv, aad: aad, inPlace: payload, icv: icv)
                    }
                } else {
                    if t.encryption != .ENCR_NULL {
                        try t.cipher.encrypt(iv: iv, aad: UnsafeRawBufferPointer(start: nil, count: 0), inPlace: payload,
                                             icv: UnsafeMutableRawBufferPointer(start: nil, count: 0))
                    }
                    if let mac = t.mac {
                        try withESNTrailer(seq: seq, esn: sa.esn) { trailer in
                            try mac.mac(UnsafeRawBufferPointer(rebasing: o[0..<(ptStart + padded)]), trailer: trailer, into: icv)
                        }
                    }
                }
                return true
            } catch { return false }
        }
        guard ok else { sa.counters.drop(.icvMismatch); return .failure(.icvMismatch) }
        sa.counters.packets += 1
        sa.counters.bytes += UInt64(inner.count)
        return .success(out)
    }

    /// Verifies and decrypts an inbound ESP packet in place. The caller has already found
    /// `sa` by the SPI. The replay window moves only after the ICV verified.
    public static func open(_ packet: UnsafeMutableRawBufferPointer, sa: ESPSecurityAssociation) -> Outcome {
        let t = sa.transform
        let ptStart = 8 + t.ivLength
        let minimum = ptStart + t.alignment + t.icvLength
        guard packet.count >= minimum else { return drop(.truncated, sa) }
        let ctLength = packet.count - ptStart - t.icvLength
        guard ctLength % t.alignment == 0 else { return drop(.badLength, sa) }
        let low = packet.load(fromByteOffset: 4, as: UInt32.self).bigEndian
        let seq: UInt64
        switch sa.window.check(low: low, esn: sa.esn) {
        case let .ok(s): seq = s
        case .replayed: return drop(.replayed, sa)
        case .tooOld: return drop(.outsideWindow, sa)
        }
        let iv = UnsafeRawBufferPointer(rebasing: packet[8..<ptStart])
        let payload = UnsafeMutableRawBufferPointer(rebasing: packet[ptStart..<(ptStart + ctLength)])
        let icv = UnsafeRawBufferPointer(rebasing: packet[(ptStart + ctLength)...])
        let spi = sa.spi
        do {
            if t.encryption.isAEAD {
                try withAAD(spi: spi, seq: seq, esn: sa.esn, iv: t.isGMAC ? iv : nil) { aad in
                    try t.cipher.decrypt(iv: iv, aad: aad, inPlace: payload, icv: icv)
                }
            } else {
                if let mac = t.mac {
                    let good = try withESNTrailer(seq: seq, esn: sa.esn) { trailer in
                        try mac.verify(UnsafeRawBufferPointer(rebasing: packet[0..<(ptStart + ctLength)]), trailer: trailer, icv: icv)
                    }
                    guard good else { return drop(.icvMismatch, sa) }
                }
                if t.encryption != .ENCR_NULL {
                    try t.cipher.decrypt(iv: iv, aad: UnsafeRawBufferPointer(start: nil, count: 0), inPlace: payload,
                                         icv: UnsafeRawBufferPointer(start: nil, count: 0))
                }
            }
        } catch {
            return drop(.icvMismatch, sa)
        }
        // Trailer: pad length and next header; padding must be 1, 2, 3, ... (RFC 4303 §2.4).
        let padLength = Int(payload[ctLength - 2]), nextHeader = payload[ctLength - 1]
        guard padLength + 2 <= ctLength else { return drop(.badPadding, sa) }
        let innerEnd = ctLength - 2 - padLength
        for i in 0..<padLength where payload[innerEnd + i] != UInt8(truncatingIfNeeded: i + 1) { return drop(.badPadding, sa) }
        sa.window.accept(seq)
        // Next header 59 is a dummy packet for traffic-flow confidentiality (RFC 4303 §2.6).
        let inner = (ptStart)..<(ptStart + innerEnd)
        if nextHeader == 59 { sa.counters.packets += 1; return .inner(range: inner.lowerBound..<inner.lowerBound, nextHeader: 59, sequence: seq) }
        // Tunnel mode (next header 4 or 41): the inner source must be inside the SA's
        // traffic selectors (no spoofing another UE's address).
        let innerBuf = UnsafeRawBufferPointer(rebasing: packet[inner])
        if nextHeader == 4 || nextHeader == 41 {
            guard let v = InnerPacket.version(innerBuf), (v == 4) == (nextHeader == 4) else { return drop(.unsupportedInner, sa) }
            if !sa.trafficSelectors.isEmpty {
                let o = InnerPacket.sourceOffset(version: v)
                let allowed = sa.trafficSelectors.contains { ($0.isIPv6 == (v == 6)) && $0.contains(innerBuf, offset: o) }
                guard allowed else { return drop(.sourceNotAllowed, sa) }
            }
        } else if !sa.trafficSelectors.isEmpty {
            return drop(.unsupportedInner, sa)
        }
        sa.counters.packets += 1
        sa.counters.bytes += UInt64(innerEnd)
        return .inner(range: inner, nextHeader: nextHeader, sequence: seq)
    }

    private static func drop(_ r: ESPDropReason, _ sa: ESPSecurityAssociation) -> Outcome {
        sa.counters.drop(r)
        return .dropped(r)
    }

    /// AEAD associated data (RFC 4106 §5, RFC 4543 §3.5): SPI | SN (32) or SPI | ESN (64),
    /// followed by the IV for GMAC.
    private static func withAAD<R>(spi: UInt32, seq: UInt64, esn: Bool, iv: UnsafeRawBufferPointer?,
                                   _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        var a: (UInt64, UInt64, UInt64) = (0, 0, 0)
        return try withUnsafeMutableBytes(of: &a) { buf in
            buf.storeBytes(of: spi.bigEndian, toByteOffset: 0, as: UInt32.self)
            var n = 4
            if esn { buf.storeBytes(of: seq.bigEndian, toByteOffset: 4, as: UInt64.self); n = 12 }
            else { buf.storeBytes(of: UInt32(truncatingIfNeeded: seq).bigEndian, toByteOffset: 4, as: UInt32.self); n = 8 }
            if let iv { buf.baseAddress!.advanced(by: n).copyMemory(from: iv.baseAddress!, byteCount: iv.count); n += iv.count }
            return try body(UnsafeRawBufferPointer(rebasing: buf[0..<n]))
        }
    }

    /// The high 32 bits of an ESN, authenticated after the packet but not sent (RFC 4303 §2.2.1).
    private static func withESNTrailer<R>(seq: UInt64, esn: Bool, _ body: (UnsafeRawBufferPointer?) throws -> R) rethrows -> R {
        guard esn else { return try body(nil) }
        var high = UInt32(truncatingIfNeeded: seq >> 32).bigEndian
        return try withUnsafeBytes(of: &high) { try body($0) }
    }

    private static func fillRandom(_ b: UnsafeMutableRawBufferPointer) {
        let r = SecureRandom.bytes(b.count)
        b.copyBytes(from: r)
    }
}

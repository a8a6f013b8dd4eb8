/// The IMS shard key: a message's Call-ID, read without parsing the message.
extension IMSCluster {
    /// The dispatch key of a SIP message: FNV-1a of its Call-ID value, found by scanning the
    /// header lines for `Call-ID:` or the compact `i:` (any case) without parsing the message.
    /// 0 (shard of 0) when there is none: the shard that gets it answers the parse error.
    static func callIDKey(_ b: UnsafeRawBufferPointer) -> UInt64 {
        let n = b.count
        var i = 0
        // Skip the start line.
        while i < n && b[i] != 0x0A { i += 1 }
        i += 1
        while i < n {
            // i is the start of a header line; an empty line ends the headers.
            if b[i] == 0x0D || b[i] == 0x0A { return 0 }
            var j = i
            var matched = false
            let c0 = b[j] | 0x20
            if c0 == UInt8(ascii: "c"), j + 7 <= n {
                let name: [UInt8] = [0x63, 0x61, 0x6C, 0x6C, 0x2D, 0x69, 0x64]   // "call-id"
                var ok = true
                for k in 0..<7 where (b[j + k] | (b[j + k] >= 0x41 && b[j + k] <= 0x5A ? 0x20 : 0)) != name[k] { ok = false; break }
                if ok { j += 7; matched = true }
            } else if c0 == UInt8(ascii: "i") {
                j += 1; matched = true
            }
            if matched {
                while j < n && (b[j] == 0x20 || b[j] == 0x09) { j += 1 }
                if j < n && b[j] == UInt8(ascii: ":") {
                    j += 1
                    while j < n && (b[j] == 0x20 || b[j] == 0x09) { j += 1 }
                    var end = j
                    while end < n && b[end] != 0x0D && b[end] != 0x0A { end += 1 }
                    while end > j && (b[end - 1] == 0x20 || b[end - 1] == 0x09) { end -= 1 }
                    var h: UInt64 = 0xcbf2_9ce4_8422_2325
                    for k in j..<end { h = (h ^ UInt64(b[k])) &* 0x0000_0100_0000_01B3 }
                    return h
                }
            }
            while i < n && b[i] != 0x0A { i += 1 }
            i += 1
        }
        return 0
    }

    /// The dispatch key of a Call-ID we make up (`IMSCore.ownsCallID`).
    static func callIDKey(_ callID: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for c in callID.utf8 { h = (h ^ UInt64(c)) &* 0x0000_0100_0000_01B3 }
        return h
    }
}

/// "Did you mean" for misspelt keys and values.
enum Suggest {
    /// The closest candidate within an edit distance that still looks like a typo.
    static func closest(_ word: String, in candidates: [String]) -> String? {
        var best: (String, Int)?
        for c in candidates {
            let d = levenshtein(Array(word.utf8), Array(c.utf8))
            if let b = best, d >= b.1 { continue }
            best = (c, d)
        }
        guard let (c, d) = best else { return nil }
        let limit = max(2, min(word.count, c.count) / 3)
        return d <= limit && d > 0 ? c : nil
    }

    static func levenshtein(_ a: [UInt8], _ b: [UInt8]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var prev = Array(0...b.count)
        var cur = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            cur[0] = i
            for j in 1...b.count {
                cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&prev, &cur)
        }
        return prev[b.count]
    }

    /// ` (did you mean 'x'?)` or empty.
    static func hint(_ word: String, in candidates: [String]) -> String {
        closest(word, in: candidates).map { " (did you mean '\($0)'?)" } ?? ""
    }
}

import Crypto

/// Outcome of matching the peer's proposals against our lists.
enum ProposalChoice<Suite> {
    case chosen(Suite, proposal: Proposal)
    /// Acceptable, but the KE payload used another group: answer INVALID_KE_PAYLOAD naming `preferred`.
    case wrongKEGroup(preferred: DHGroup)
    case noProposalChosen
}

/// Proposal matching (RFC 7296 §2.7): the acceptable proposal whose transforms rank best in our
/// lists (encryption, then integrity, then PRF) wins; transforms inside it are chosen the same way.
enum ProposalSelection {
    /// `spiSize` is 0 in IKE_SA_INIT and 8 in a CREATE_CHILD_SA that rekeys the IKE SA (RFC 7296 §3.3.1).
    static func chooseIKE(_ proposals: [Proposal], policy: IKEResponderPolicy, keGroup: UInt16?, spiSize: Int = 0) -> ProposalChoice<IKESuite> {
        var candidates: [(rank: [Int], suite: IKESuite, groups: [DHGroup], proposal: Proposal)] = []
        // §3.3.6: an unknown transform type rejects the proposal.
        for p in proposals where p.protocolID == .IKE && p.spi.count == spiSize && !p.hasUnknownTransformType {
            guard let (ei, enc) = pickEncryption(p, policy.ikeEncryption) else { continue }
            var ii = 0
            var integ: IntegrityAlgorithm?
            if !enc.isAEAD {
                guard let (i, a) = pick(p.transforms(.INTEG).compactMap { IntegrityAlgorithm(rawValue: $0.id) }, policy.ikeIntegrity) else { continue }
                ii = i; integ = a
            } else if p.transforms(.INTEG).contains(where: { $0.id != 0 }) { continue }
            guard let (pi, prf) = pick(p.transforms(.PRF).compactMap { PseudoRandomFunction(rawValue: $0.id) }, policy.ikePRF) else { continue }
            let offered = p.transforms(.DH).compactMap { DHGroup(rawValue: $0.id) }
            let groups = policy.ikeDHGroups.filter { offered.contains($0) }
            guard let firstGroup = groups.first else { continue }
            candidates.append(([ei, ii, pi], IKESuite(encryption: enc, integrity: integ, prf: prf, dhGroup: firstGroup), groups, p))
        }
        func best(_ c: [(rank: [Int], suite: IKESuite, groups: [DHGroup], proposal: Proposal)]) -> (rank: [Int], suite: IKESuite, groups: [DHGroup], proposal: Proposal)? {
            c.min { $0.rank.lexicographicallyPrecedes($1.rank) }
        }
        // A proposal that matches the group the peer already sent a KE for saves a round trip.
        if let ke = keGroup, let g = DHGroup(rawValue: ke), var b = best(candidates.filter { $0.groups.contains(g) }) {
            b.suite.dhGroup = g
            return .chosen(b.suite, proposal: Proposal(number: b.proposal.number, protocolID: .IKE, spi: [], transforms: b.suite.transforms))
        }
        guard let b = best(candidates) else { return .noProposalChosen }
        return .wrongKEGroup(preferred: b.suite.dhGroup)
    }

    static func chooseESP(_ proposals: [Proposal], policy: IKEResponderPolicy) -> (ESPSuite, Proposal)? {
        var best: (rank: [Int], suite: ESPSuite, proposal: Proposal)?
        for p in proposals where p.protocolID == .ESP && p.spi.count == 4 && !p.hasUnknownTransformType {
            guard let (ei, enc) = pickEncryption(p, policy.espEncryption) else { continue }
            let offeredInteg = p.transforms(.INTEG).map(\.id).filter { $0 != 0 }
            var ii = 0
            var integ: IntegrityAlgorithm?
            if offeredInteg.isEmpty {
                guard let i = policy.espIntegrity.firstIndex(where: { $0 == nil }) else { continue }
                // NULL encryption without integrity is never acceptable.
                if case .ENCR_NULL = enc { continue }
                ii = i
            } else {
                if enc.isAEAD { continue }
                guard let (i, a) = pick(offeredInteg.compactMap { IntegrityAlgorithm(rawValue: $0) }, policy.espIntegrity.compactMap { $0 }) else { continue }
                ii = policy.espIntegrity.firstIndex(where: { $0 == a }) ?? i
                integ = a
            }
            let esn = p.transforms(.ESN).map(\.id)
            let useESN: Bool
            if esn.isEmpty || esn.contains(0) { useESN = false } else if esn.contains(1) { useESN = true } else { continue }
            let rank = [ei, ii]
            if best == nil || rank.lexicographicallyPrecedes(best!.rank) {
                let s = ESPSuite(encryption: enc, integrity: integ, extendedSequenceNumbers: useESN)
                best = (rank, s, p)
            }
        }
        guard let b = best else { return nil }
        return (b.suite, b.proposal)
    }

    /// Index in `ours` and value of our most preferred algorithm that the peer offers.
    static func pick<T: Equatable>(_ offered: [T], _ ours: [T]) -> (Int, T)? {
        for (i, a) in ours.enumerated() where offered.contains(a) { return (i, a) }
        return nil
    }

    static func pickEncryption(_ p: Proposal, _ ours: [EncryptionAlgorithm]) -> (Int, EncryptionAlgorithm)? {
        let offered = p.transforms(.ENCR).compactMap { t in try? EncryptionAlgorithm(transformID: t.id, keyLength: t.keyLength.map(Int.init)) }
        return pick(offered, ours)
    }

    /// "offered vs accepted" for the NO_PROPOSAL_CHOSEN log line.
    static func describe(_ proposals: [Proposal]) -> String {
        proposals.map { p in
            p.transforms.map { t -> String in
                switch t.type {
                case .ENCR: return (try? EncryptionAlgorithm(transformID: t.id, keyLength: t.keyLength.map(Int.init)))?.description ?? "ENCR(\(t.id))"
                case .INTEG: return IntegrityAlgorithm(rawValue: t.id)?.description ?? "INTEG(\(t.id))"
                case .PRF: return PseudoRandomFunction(rawValue: t.id)?.description ?? "PRF(\(t.id))"
                case .DH: return DHGroup(rawValue: t.id)?.description ?? "DH(\(t.id))"
                case .ESN: return t.id == 1 ? "ESN" : "NO_ESN"
                }
            }.joined(separator: "/") + (p.spi.isEmpty || p.protocolID == .ESP && p.spi.count == 4 ? "" : " (SPI size \(p.spi.count))")
                + (p.hasUnknownTransformType ? " (unknown transform type)" : "")
        }.joined(separator: ", ")
    }
}

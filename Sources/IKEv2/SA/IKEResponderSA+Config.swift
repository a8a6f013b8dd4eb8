import AKA
import Crypto
import Wire

/// The last IKE_AUTH on the ePDG: MSK AUTH both ways, CFG_REPLY and the first Child SA.
extension IKEResponderSA {
    // MARK: IKE_AUTH, last request: AUTH from the MSK, then configuration and the Child SA

    func handleFinalAuth(_ h: IKEHeader, _ payloads: [Payload], msk: [UInt8]) {
        if inject(.ike_auth_step3, h, apn: apn) { return }
        guard let auth = payloads.auth, let idi, let idrSent else {
            reject(h, [NotifyPayload(.AUTHENTICATION_FAILED)], reason: "final IKE_AUTH without AUTH"); return
        }
        guard auth.method == .SHARED_KEY_MIC, let expected = mskAuth(msk: msk, ofInitiator: true, idPrime: idi.idPrime),
              constantTimeEqual(expected, auth.data) else {
            reject(h, [NotifyPayload(.AUTHENTICATION_FAILED)], reason: "initiator AUTH (MSK) does not verify"); return
        }
        guard let myAuth = mskAuth(msk: msk, ofInitiator: false, idPrime: idrSent.idPrime) else { return }
        // With EAP, some phones send these in the last IKE_AUTH request instead of the first.
        if payloads.has(.MOBIKE_SUPPORTED) { peerOffersMOBIKE = true }
        if payloads.has(.INITIAL_CONTACT) { initialContact = true }
        var out: [Payload] = [.auth(AuthPayload(method: .SHARED_KEY_MIC, data: myAuth))]
        if finishFirstRound(h, payloads, out: out) { return }
        establish(h, out: &out)
    }

    /// Both sides authenticated: the SA is up; allocates the inner addresses, answers the CP
    /// request, creates the first Child SA and sends `out` with them.
    func establish(_ h: IKEHeader, out: inout [Payload]) {
        isEstablished = true
        establishedAt = lastActivity
        phase = .established

        // Configuration payload.
        var wantV4 = true, wantV6 = false
        if let cp = cpRequest {
            wantV4 = cp.has(CPPayload.Attribute.INTERNAL_IP4_ADDRESS)
            wantV6 = cp.has(CPPayload.Attribute.INTERNAL_IP6_ADDRESS)
        }
        // A phone may name the IPv4 address it wants (e.g. the one it had); 0.0.0.0 asks for none in particular.
        let requested = cpRequest?.values(CPPayload.Attribute.INTERNAL_IP4_ADDRESS).first { $0.count == 4 && $0 != [0, 0, 0, 0] }
            .flatMap { IPAddress(bytes: $0) }
        var childOK = true
        do {
            let a = try pool.allocate(imsi: imsi, apn: apn, wantIPv4: wantV4, wantIPv6: wantV6, requestedIPv4: requested)
            if let r = requested, a.ipv4 != r {
                log(.info, "phone asked for INTERNAL_IP4_ADDRESS \(r), not free: gave \(a.ipv4.map { "\($0)" } ?? "none")")
            }
            addresses = a
            if cpRequest != nil { out.append(.cp(configReply(a))) }
            if let only = Self.singleFamilyNotify(wantV4: wantV4, wantV6: wantV6, given: a) {
                out.append(.notify(NotifyPayload(only)))
                log(.info, "phone asked for IPv4 and IPv6 on APN \(apn); the PDN gives only \(only == .PDN_TYPE_IPv4_ONLY_ALLOWED ? "IPv4" : "IPv6"): \(only)")
            }
        } catch {
            log(.warning, "address allocation failed for IMSI \(imsi) APN \(apn): \(error)")
            out.append(.notify(NotifyPayload(.INTERNAL_ADDRESS_FAILURE)))
            childOK = false
        }
        if peerOffersMOBIKE, policy.mobike {
            // RFC 4555 §3.1: both sides say so in the last IKE_AUTH exchange.
            mobikeNegotiated = true
            out.append(.notify(NotifyPayload(.MOBIKE_SUPPORTED)))
        }
        if childOK, let child = makeChild(&out) {
            children.append(child)
            childCreatedAt[child.inboundSPI] = lastActivity
            actions.append(.installChildSA(child))
        }
        sendResponse(to: h, out)
        log(.info, "IKE SA established for IMSI \(imsi) APN \(apn)" + (addresses?.ipv4.map { " inner \($0)" } ?? "") + (addresses?.ipv6.map { " inner \($0)" } ?? "")
            + (secondAuth.authenticatedUser.map { " PDN user '\($0)' (\(secondAuth.method?.label ?? ""))" } ?? ""))
        if let i = info() { actions.append(.ikeSAEstablished(i)) }
    }

    /// TS 24.302 §8.1.2.3 (private status types): a phone that asked for both families on a PDN that
    /// gives one is told which (PDN_TYPE_IPv4_ONLY_ALLOWED / PDN_TYPE_IPv6_ONLY_ALLOWED, no data),
    /// so it does not ask for the other family again (the SWu form of ESM causes #50/#51).
    static func singleFamilyNotify(wantV4: Bool, wantV6: Bool, given a: InnerAddresses) -> NotifyType? {
        guard wantV4, wantV6 else { return nil }
        switch (a.ipv4 != nil, a.ipv6 != nil) {
        case (true, false): return .PDN_TYPE_IPv4_ONLY_ALLOWED
        case (false, true): return .PDN_TYPE_IPv6_ONLY_ALLOWED
        default: return nil
        }
    }

    static let privatePCSCFv4: [UInt16] = [16384, 16389]
    static let privatePCSCFv6: [UInt16] = [16386, 16390]

    func configReply(_ a: InnerAddresses) -> CPPayload {
        typealias A = CPPayload.Attribute
        var attrs: [A] = []
        guard let req = cpRequest, let ap = apnPolicy else { return CPPayload(cfgType: CPPayload.CFG_REPLY, attributes: []) }
        if let v4 = a.ipv4, req.has(A.INTERNAL_IP4_ADDRESS) { attrs.append(A(A.INTERNAL_IP4_ADDRESS, v4.bytes)) }
        if a.ipv4 != nil, req.has(A.INTERNAL_IP4_NETMASK) { attrs.append(A(A.INTERNAL_IP4_NETMASK, [255, 255, 255, 255])) }
        if let v6 = a.ipv6, req.has(A.INTERNAL_IP6_ADDRESS) { attrs.append(A(A.INTERNAL_IP6_ADDRESS, v6.bytes + [a.ipv6PrefixLength])) }
        if req.has(A.INTERNAL_IP4_DNS) { for d in ap.dnsServers where d.isIPv4 { attrs.append(A(A.INTERNAL_IP4_DNS, d.bytes)) } }
        if req.has(A.INTERNAL_IP6_DNS) { for d in ap.dnsServers where d.isIPv6 { attrs.append(A(A.INTERNAL_IP6_DNS, d.bytes)) } }
        // Besides 20/21 and the configured private types, phones ask for the P-CSCF in
        // private types of their own: Qualcomm/Xiaomi 16384 (v4) / 16386 (v6), Samsung
        // 16389 (v4) / 16390 (v6) (see docs: peers survey). They are answered in kind.
        let v4Types = Set([A.P_CSCF_IP4_ADDRESS] + Self.privatePCSCFv4 + (policy.pcscfIPv4AttributeType.map { [$0] } ?? []))
        let v6Types = Set([A.P_CSCF_IP6_ADDRESS] + Self.privatePCSCFv6 + (policy.pcscfIPv6AttributeType.map { [$0] } ?? []))
        var answered = Set<UInt16>()
        for r in req.attributes where !answered.contains(r.type) {
            if v4Types.contains(r.type) {
                let t = policy.pcscfIPv4AttributeType ?? r.type
                for p in ap.pcscfAddresses where p.isIPv4 { attrs.append(A(t, p.bytes)) }
                answered.insert(r.type)
                if let c = policy.pcscfIPv4AttributeType { answered.insert(c) }
            } else if v6Types.contains(r.type) {
                let t = policy.pcscfIPv6AttributeType ?? r.type
                for p in ap.pcscfAddresses where p.isIPv6 { attrs.append(A(t, p.bytes)) }
                answered.insert(r.type)
                if let c = policy.pcscfIPv6AttributeType { answered.insert(c) }
            }
        }
        return CPPayload(cfgType: CPPayload.CFG_REPLY, attributes: attrs)
    }

    /// Chooses the ESP proposal, narrows TSi to the assigned addresses and TSr to what was asked,
    /// derives KEYMAT. Appends SA/TSi/TSr (or an error notify) to `out`.
    func makeChild(_ out: inout [Payload]) -> ChildSADescription? {
        guard let suite, let keys else { return nil }
        guard let (esp, offered) = ProposalSelection.chooseESP(childProposals, policy: policy) else {
            log(.warning, "Child SA NO_PROPOSAL_CHOSEN: offered \(ProposalSelection.describe(childProposals)); accepted \(policy.espEncryption.map(\.description)) \(policy.espIntegrity.map { $0?.description ?? "null" })")
            out.append(.notify(NotifyPayload(.NO_PROPOSAL_CHOSEN)))
            return nil
        }
        var narrowedI: [TrafficSelector] = []
        var families: [Bool] = [] // isIPv4
        if let a = addresses {
            if let v4 = a.ipv4 {
                let mine = TrafficSelector.single(v4)
                narrowedI += distinct(tsi.compactMap { $0.intersection(mine) })
                families.append(true)
            }
            if let v6 = a.ipv6 {
                let mine = prefixRange(v6, a.ipv6PrefixLength)
                narrowedI += distinct(tsi.compactMap { $0.intersection(mine) })
                families.append(false)
            }
        } else {
            narrowedI = tsi
            families = [true, false]
        }
        let narrowedR = tsr.filter { ts in families.contains(ts.isIPv4) }
        guard !narrowedI.isEmpty, !narrowedR.isEmpty else {
            log(.warning, "TS_UNACCEPTABLE: TSi \(tsi.map(\.description)) TSr \(tsr.map(\.description)) vs assigned \(String(describing: addresses))")
            out.append(.notify(NotifyPayload(.TS_UNACCEPTABLE)))
            return nil
        }
        let ck: ChildKeys
        do { ck = try KeySchedule.childKeys(prf: suite.prf, skD: keys.SK_d, ni: ni, nr: nr, suite: esp) } catch {
            log(.error, "Child SA key derivation failed: \(error)"); return nil
        }
        let mySPI = allocateSPI()
        let chosen = Proposal(number: offered.number, protocolID: .ESP, spi: be32(mySPI), transforms: esp.transforms)
        out += [.sa(SAPayload(proposals: [chosen])), .tsi(TSPayload(narrowedI)), .tsr(TSPayload(narrowedR))]
        return ChildSADescription(ikeSPIi: spiI, ikeSPIr: spiR, inboundSPI: mySPI, outboundSPI: u32(offered.spi), suite: esp,
                                  inboundEncryptionKey: ck.encryptionI, inboundIntegrityKey: ck.integrityI,
                                  outboundEncryptionKey: ck.encryptionR, outboundIntegrityKey: ck.integrityR,
                                  localTS: narrowedR, remoteTS: narrowedI, local: local, remote: remote, udpEncapsulation: udpEncapsulation,
                                  innerIPv4: addresses?.ipv4, innerIPv6: addresses?.ipv6, lifetimeSeconds: policy.espLifetime, imsi: imsi, apn: apn)
    }
}

/// Each selector once, in order: TSi selectors that differ by protocol or ports (e.g. one for
/// UDP and one for TCP, RFC 7296 §2.9) all survive narrowing to the assigned address.
func distinct(_ ts: [TrafficSelector]) -> [TrafficSelector] {
    var out: [TrafficSelector] = []
    for t in ts where !out.contains(t) { out.append(t) }
    return out
}

/// The address range of `prefixLength` around `a`.
func prefixRange(_ a: IPAddress, _ prefixLength: UInt8) -> TrafficSelector {
    var lo = a.bytes, hi = a.bytes
    for bit in min(Int(prefixLength), lo.count * 8)..<(lo.count * 8) {
        lo[bit / 8] &= ~(0x80 >> UInt8(bit % 8))
        hi[bit / 8] |= (0x80 >> UInt8(bit % 8))
    }
    return TrafficSelector(startAddress: IPAddress(bytes: lo) ?? a, endAddress: IPAddress(bytes: hi) ?? a)
}

import AKA
import Crypto
import Wire

/// The last IKE_AUTH response on the phone: the ePDG's MSK AUTH, CFG_REPLY and the Child SA.
extension IKEInitiator {
    func handleFinalAuthResponse(_ payloads: [Payload], now: Double) {
        guard let msk, let auth = payloads.auth, let idr = payloads.idr ?? Optional(IDPayload(.ID_FQDN, config.apn)) else {
            fail("final IKE_AUTH response without AUTH"); return
        }
        guard let expected = mskAuth(msk: msk, ofInitiator: false, idPrime: idrForAuth?.idPrime ?? idr.idPrime),
              constantTimeEqual(expected, auth.data) else {
            fail("responder AUTH (MSK) does not verify", notify: .AUTHENTICATION_FAILED); return
        }
        // An ePDG that already sends the Child SA needs no second round (e.g. the emergency PDN).
        if wantsSecondAuth, payloads.sa == nil { startSecondRound(now: now); return }
        adoptFinalResponse(payloads)
    }

    /// Both sides authenticated (every round): the SA is up; reads CFG_REPLY and installs the Child SA.
    func adoptFinalResponse(_ payloads: [Payload]) {
        isEstablished = true
        state = .established
        mobikeNegotiated = payloads.has(.MOBIKE_SUPPORTED) && (config.authNotifies ?? []).contains { $0.type == .MOBIKE_SUPPORTED }
        if let cp = payloads.cp {
            typealias A = CPPayload.Attribute
            var a = AssignedConfiguration()
            for attr in cp.attributes {
                switch attr.type {
                case A.INTERNAL_IP4_ADDRESS: a.ipv4 = attr.address
                case A.INTERNAL_IP6_ADDRESS: a.ipv6 = attr.address; a.ipv6PrefixLength = attr.value.count == 17 ? attr.value[16] : nil
                case A.INTERNAL_IP4_DNS, A.INTERNAL_IP6_DNS: if let d = attr.address { a.dns.append(d) }
                case config.pcscfIPv4AttributeType, config.pcscfIPv6AttributeType, A.P_CSCF_IP4_ADDRESS, A.P_CSCF_IP6_ADDRESS:
                    if let d = attr.address { a.pcscf.append(d) }
                default:
                    // Private attribute types the phone asked for carry P-CSCF addresses (TS 24.302 legacy forms).
                    if attr.type >= 16384, (config.cpRequestAttributes ?? []).contains(attr.type), let d = attr.address { a.pcscf.append(d) }
                }
            }
            assigned = a
        }
        log(.info, "IKE SA established" + (assigned?.ipv4.map { ", inner \($0)" } ?? ""))
        if let i = info() { actions.append(.ikeSAEstablished(i)) }
        guard let sa = payloads.sa, let p = sa.proposals.first, p.spi.count == 4, let tsi = payloads.tsi, let tsr = payloads.tsr,
              let suite, let keys else {
            log(.warning, "no Child SA in the IKE_AUTH response"); return
        }
        guard let encT = p.transforms(.ENCR).first, let enc = try? EncryptionAlgorithm(transformID: encT.id, keyLength: encT.keyLength.map(Int.init)) else {
            log(.warning, "unusable Child SA proposal \(p)"); return
        }
        let integ = p.transforms(.INTEG).first.flatMap { $0.id == 0 ? nil : IntegrityAlgorithm(rawValue: $0.id) }
        let esp = ESPSuite(encryption: enc, integrity: integ, extendedSequenceNumbers: p.transforms(.ESN).first?.id == 1)
        do {
            let ck = try KeySchedule.childKeys(prf: suite.prf, skD: keys.SK_d, ni: ni, nr: nr, suite: esp)
            let child = ChildSADescription(ikeSPIi: spiI, ikeSPIr: spiR, inboundSPI: childSPI, outboundSPI: u32(p.spi), suite: esp,
                                           inboundEncryptionKey: ck.encryptionR, inboundIntegrityKey: ck.integrityR,
                                           outboundEncryptionKey: ck.encryptionI, outboundIntegrityKey: ck.integrityI,
                                           localTS: tsi.selectors, remoteTS: tsr.selectors, local: local, remote: remote,
                                           udpEncapsulation: udpEncapsulation, innerIPv4: assigned?.ipv4, innerIPv6: assigned?.ipv6,
                                           lifetimeSeconds: 0, imsi: imsi, apn: apn)
            children.append(child)
            actions.append(.installChildSA(child))
        } catch {
            log(.error, "Child SA key derivation failed: \(error)")
        }
    }
}

extension IKEInitiator {
    /// MOBIKE (RFC 4555 §3.5): the phone's address changed (another Wi-Fi, a new NAT
    /// binding): from `newLocal`, INFORMATIONAL with UPDATE_SA_ADDRESSES, our NAT detection
    /// for the new path and COOKIE2. The ePDG moves the IKE SA and its ESP there.
    public func updateAddresses(newLocal: IKEEndpoint, now: Double) -> [IKEAction] {
        guard state == .established, mobikeNegotiated, pending == nil else { return [] }
        local = newLocal
        let cookie2 = SecureRandom.bytes(16)
        sendRequest(.INFORMATIONAL, [.notify(NotifyPayload(.UPDATE_SA_ADDRESSES)),
                                     .notify(NotifyPayload(.NAT_DETECTION_SOURCE_IP, data: NATDetection.hash(spiI: spiI, spiR: spiR, local))),
                                     .notify(NotifyPayload(.NAT_DETECTION_DESTINATION_IP, data: NATDetection.hash(spiI: spiI, spiR: spiR, remote))),
                                     .notify(NotifyPayload(.COOKIE2, data: cookie2))], now: now)
        return drain()
    }
}

/// One value of Security-Client / Security-Server / Security-Verify (RFC 3329 §2.2; TS 33.203
/// `ipsec-3gpp` parameters): the mechanism name and its parameters (alg, ealg, spi-c, spi-s,
/// port-c, port-s, prot, mod, q). The IMS does not set up Gm IPsec itself; this lets the
/// runtime or a later P-CSCF read what the phone offers.
public struct SIPSecurityMechanism: Sendable, Equatable, CustomStringConvertible {
    public var mechanism: String
    public var parameters: SIPParameters

    public init(mechanism: String, parameters: SIPParameters = SIPParameters()) {
        self.mechanism = mechanism; self.parameters = parameters
    }

    public init(parsing text: Substring) throws {
        let pieces = try SIPQuoting.split(text.sipTrimmed, on: UInt8(ascii: ";"), context: "Security-Client")
        guard let name = pieces.first?.sipTrimmed, SIPChar.isTokenString(name) else {
            throw SIPParseError.badHeaderValue(header: "Security-Client", reason: "bad mechanism name")
        }
        mechanism = String(name)
        parameters = try SIPParameters.parse(Array(pieces.dropFirst()), context: "Security-Client")
    }

    public var spiC: UInt32? { parameters["spi-c"].flatMap { UInt32($0) } }
    public var spiS: UInt32? { parameters["spi-s"].flatMap { UInt32($0) } }
    public var portC: UInt16? { parameters["port-c"].flatMap { UInt16($0) } }
    public var portS: UInt16? { parameters["port-s"].flatMap { UInt16($0) } }
    public var description: String { mechanism + parameters.serialized }
}

extension SIPMessage {
    /// The mechanisms of a Security-* header, in order of the phone's preference.
    public func securityMechanisms(_ name: String = "Security-Client") throws -> [SIPSecurityMechanism] {
        try headerValues(name).map { try SIPSecurityMechanism(parsing: $0) }
    }
}

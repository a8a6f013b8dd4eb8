import Wire

/// Notify message types: RFC 7296 and its extensions, and the 3GPP private ones of
/// TS 24.302 §8.1.2 (numbers checked against shared/reference/callbox-reference.md §9.5).
/// Types below 16384 are errors; 16384 and above are status.
public struct NotifyType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public init(_ v: UInt16) { rawValue = v }

    public var isError: Bool { rawValue < 16384 }

    // RFC 7296 errors
    public static let UNSUPPORTED_CRITICAL_PAYLOAD = NotifyType(1)
    public static let INVALID_IKE_SPI = NotifyType(4)
    public static let INVALID_MAJOR_VERSION = NotifyType(5)
    public static let INVALID_SYNTAX = NotifyType(7)
    public static let INVALID_MESSAGE_ID = NotifyType(9)
    public static let INVALID_SPI = NotifyType(11)
    public static let NO_PROPOSAL_CHOSEN = NotifyType(14)
    public static let INVALID_KE_PAYLOAD = NotifyType(17)
    public static let AUTHENTICATION_FAILED = NotifyType(24)
    public static let SINGLE_PAIR_REQUIRED = NotifyType(34)
    public static let NO_ADDITIONAL_SAS = NotifyType(35)
    public static let INTERNAL_ADDRESS_FAILURE = NotifyType(36)
    public static let FAILED_CP_REQUIRED = NotifyType(37)
    public static let TS_UNACCEPTABLE = NotifyType(38)
    public static let INVALID_SELECTORS = NotifyType(39)
    public static let UNACCEPTABLE_ADDRESSES = NotifyType(40)
    public static let UNEXPECTED_NAT_DETECTED = NotifyType(41)
    public static let USE_ASSIGNED_HoA = NotifyType(42)
    public static let TEMPORARY_FAILURE = NotifyType(43)
    public static let CHILD_SA_NOT_FOUND = NotifyType(44)
    // 3GPP TS 24.302 errors
    public static let PDN_CONNECTION_REJECTION = NotifyType(8192)
    public static let MAX_CONNECTION_REACHED = NotifyType(8193)
    public static let SEMANTIC_ERROR_IN_THE_TFT_OPERATION = NotifyType(8241)
    public static let SYNTACTICAL_ERROR_IN_THE_TFT_OPERATION = NotifyType(8242)
    public static let SEMANTIC_ERRORS_IN_PACKET_FILTERS = NotifyType(8244)
    public static let SYNTACTICAL_ERRORS_IN_PACKET_FILTERS = NotifyType(8245)
    public static let NON_3GPP_ACCESS_TO_EPC_NOT_ALLOWED = NotifyType(9000)
    public static let USER_UNKNOWN = NotifyType(9001)
    public static let NO_APN_SUBSCRIPTION = NotifyType(9002)
    public static let AUTHORIZATION_REJECTED = NotifyType(9003)
    public static let ILLEGAL_ME = NotifyType(9006)
    public static let NETWORK_FAILURE = NotifyType(10500)
    public static let RAT_TYPE_NOT_ALLOWED = NotifyType(11001)
    public static let IMEI_NOT_ACCEPTED = NotifyType(11005)
    public static let PLMN_NOT_ALLOWED = NotifyType(11011)
    public static let UNAUTHENTICATED_EMERGENCY_NOT_SUPPORTED = NotifyType(11055)
    public static let CONGESTION = NotifyType(15500)
    // RFC 7296 and extensions: status
    public static let INITIAL_CONTACT = NotifyType(16384)
    public static let SET_WINDOW_SIZE = NotifyType(16385)
    public static let ADDITIONAL_TS_POSSIBLE = NotifyType(16386)
    public static let IPCOMP_SUPPORTED = NotifyType(16387)
    public static let NAT_DETECTION_SOURCE_IP = NotifyType(16388)
    public static let NAT_DETECTION_DESTINATION_IP = NotifyType(16389)
    public static let COOKIE = NotifyType(16390)
    public static let USE_TRANSPORT_MODE = NotifyType(16391)
    public static let HTTP_CERT_LOOKUP_SUPPORTED = NotifyType(16392)
    public static let REKEY_SA = NotifyType(16393)
    public static let ESP_TFC_PADDING_NOT_SUPPORTED = NotifyType(16394)
    public static let NON_FIRST_FRAGMENTS_ALSO = NotifyType(16395)
    public static let MOBIKE_SUPPORTED = NotifyType(16396)
    public static let ADDITIONAL_IP4_ADDRESS = NotifyType(16397)
    public static let ADDITIONAL_IP6_ADDRESS = NotifyType(16398)
    public static let NO_ADDITIONAL_ADDRESSES = NotifyType(16399)
    public static let UPDATE_SA_ADDRESSES = NotifyType(16400)
    public static let COOKIE2 = NotifyType(16401)
    public static let NO_NATS_ALLOWED = NotifyType(16402)
    public static let AUTH_LIFETIME = NotifyType(16403)
    public static let MULTIPLE_AUTH_SUPPORTED = NotifyType(16404)
    public static let ANOTHER_AUTH_FOLLOWS = NotifyType(16405)
    public static let REDIRECT_SUPPORTED = NotifyType(16406)
    public static let REDIRECT = NotifyType(16407)
    public static let REDIRECTED_FROM = NotifyType(16408)
    public static let EAP_ONLY_AUTHENTICATION = NotifyType(16417)
    public static let CHILDLESS_IKEV2_SUPPORTED = NotifyType(16418)
    public static let IKEV2_FRAGMENTATION_SUPPORTED = NotifyType(16430)
    public static let SIGNATURE_HASH_ALGORITHMS = NotifyType(16431)
    // 3GPP TS 24.302 status
    public static let REACTIVATION_REQUESTED_CAUSE = NotifyType(40961)
    public static let BACKOFF_TIMER = NotifyType(41041)
    public static let PDN_TYPE_IPv4_ONLY_ALLOWED = NotifyType(41050)
    public static let PDN_TYPE_IPv6_ONLY_ALLOWED = NotifyType(41051)
    public static let DEVICE_IDENTITY = NotifyType(41101)
    public static let EMERGENCY_SUPPORT = NotifyType(41112)
    public static let EMERGENCY_CALL_NUMBERS = NotifyType(41134)
    public static let NBIFOM_GENERIC_CONTAINER = NotifyType(41288)
    public static let P_CSCF_RESELECTION_SUPPORT = NotifyType(41304)
    public static let PTI = NotifyType(41501)
    public static let IKEV2_MULTIPLE_BEARER_PDN_CONNECTIVITY = NotifyType(42011)
    public static let EPS_QOS = NotifyType(42014)
    public static let EXTENDED_EPS_QOS = NotifyType(42015)
    public static let TFT = NotifyType(42017)
    public static let MODIFIED_BEARER = NotifyType(42020)
    public static let APN_AMBR = NotifyType(42094)
    public static let EXTENDED_APN_AMBR = NotifyType(42095)
    public static let N1_MODE_CAPABILITY = NotifyType(51015)
    public static let N1_MODE_INFORMATION = NotifyType(51115)

    static let names: [UInt16: String] = [
        1: "UNSUPPORTED_CRITICAL_PAYLOAD", 4: "INVALID_IKE_SPI", 5: "INVALID_MAJOR_VERSION", 7: "INVALID_SYNTAX",
        9: "INVALID_MESSAGE_ID", 11: "INVALID_SPI", 14: "NO_PROPOSAL_CHOSEN", 17: "INVALID_KE_PAYLOAD",
        24: "AUTHENTICATION_FAILED", 34: "SINGLE_PAIR_REQUIRED", 35: "NO_ADDITIONAL_SAS", 36: "INTERNAL_ADDRESS_FAILURE",
        37: "FAILED_CP_REQUIRED", 38: "TS_UNACCEPTABLE", 39: "INVALID_SELECTORS", 40: "UNACCEPTABLE_ADDRESSES",
        41: "UNEXPECTED_NAT_DETECTED", 42: "USE_ASSIGNED_HoA", 43: "TEMPORARY_FAILURE", 44: "CHILD_SA_NOT_FOUND",
        8192: "PDN_CONNECTION_REJECTION", 8193: "MAX_CONNECTION_REACHED", 8241: "SEMANTIC_ERROR_IN_THE_TFT_OPERATION",
        8242: "SYNTACTICAL_ERROR_IN_THE_TFT_OPERATION", 8244: "SEMANTIC_ERRORS_IN_PACKET_FILTERS",
        8245: "SYNTACTICAL_ERRORS_IN_PACKET_FILTERS", 9000: "NON_3GPP_ACCESS_TO_EPC_NOT_ALLOWED", 9001: "USER_UNKNOWN",
        9002: "NO_APN_SUBSCRIPTION", 9003: "AUTHORIZATION_REJECTED", 9006: "ILLEGAL_ME", 10500: "NETWORK_FAILURE",
        11001: "RAT_TYPE_NOT_ALLOWED", 11005: "IMEI_NOT_ACCEPTED", 11011: "PLMN_NOT_ALLOWED",
        11055: "UNAUTHENTICATED_EMERGENCY_NOT_SUPPORTED", 15500: "CONGESTION",
        16384: "INITIAL_CONTACT", 16385: "SET_WINDOW_SIZE", 16386: "ADDITIONAL_TS_POSSIBLE", 16387: "IPCOMP_SUPPORTED",
        16388: "NAT_DETECTION_SOURCE_IP", 16389: "NAT_DETECTION_DESTINATION_IP", 16390: "COOKIE",
        16391: "USE_TRANSPORT_MODE", 16392: "HTTP_CERT_LOOKUP_SUPPORTED", 16393: "REKEY_SA",
        16394: "ESP_TFC_PADDING_NOT_SUPPORTED", 16395: "NON_FIRST_FRAGMENTS_ALSO", 16396: "MOBIKE_SUPPORTED",
        16397: "ADDITIONAL_IP4_ADDRESS", 16398: "ADDITIONAL_IP6_ADDRESS", 16399: "NO_ADDITIONAL_ADDRESSES",
        16400: "UPDATE_SA_ADDRESSES", 16401: "COOKIE2", 16402: "NO_NATS_ALLOWED", 16403: "AUTH_LIFETIME",
        16404: "MULTIPLE_AUTH_SUPPORTED", 16405: "ANOTHER_AUTH_FOLLOWS", 16406: "REDIRECT_SUPPORTED", 16407: "REDIRECT",
        16408: "REDIRECTED_FROM", 16417: "EAP_ONLY_AUTHENTICATION", 16418: "CHILDLESS_IKEV2_SUPPORTED",
        16430: "IKEV2_FRAGMENTATION_SUPPORTED", 16431: "SIGNATURE_HASH_ALGORITHMS",
        40961: "REACTIVATION_REQUESTED_CAUSE", 41041: "BACKOFF_TIMER", 41050: "PDN_TYPE_IPv4_ONLY_ALLOWED",
        41051: "PDN_TYPE_IPv6_ONLY_ALLOWED", 41101: "DEVICE_IDENTITY", 41112: "EMERGENCY_SUPPORT",
        41134: "EMERGENCY_CALL_NUMBERS", 41288: "NBIFOM_GENERIC_CONTAINER", 41304: "P-CSCF_RESELECTION_SUPPORT",
        41501: "PTI", 42011: "IKEV2_MULTIPLE_BEARER_PDN_CONNECTIVITY", 42014: "EPS_QOS", 42015: "EXTENDED_EPS_QOS",
        42017: "TFT", 42020: "MODIFIED_BEARER", 42094: "APN_AMBR", 42095: "EXTENDED_APN_AMBR",
        51015: "N1_MODE_CAPABILITY", 51115: "N1_MODE_INFORMATION",
    ]

    /// The registry name, or "NOTIFY(n)" when unknown.
    public var name: String { NotifyType.names[rawValue] ?? "NOTIFY(\(rawValue))" }
    public var description: String { name }
}

/// The Notify payload (RFC 7296 §3.10).
public struct NotifyPayload: Hashable, Sendable, CustomStringConvertible {
    public var protocolID: UInt8
    public var spi: [UInt8]
    public var type: NotifyType
    public var data: [UInt8]

    public init(_ type: NotifyType, data: [UInt8] = [], protocolID: UInt8 = 0, spi: [UInt8] = []) {
        self.type = type; self.data = data; self.protocolID = protocolID; self.spi = spi
    }

    public init(parsing r: inout ByteReader) throws {
        protocolID = try r.u8("Notify protocol ID")
        let spiSize = Int(try r.u8("Notify SPI size"))
        type = NotifyType(rawValue: try r.u16("Notify message type"))
        spi = try r.bytes(spiSize, "Notify SPI")
        data = r.rest()
    }

    public func serialize(into w: inout ByteWriter) {
        w.u8(protocolID); w.u8(UInt8(spi.count)); w.u16(type.rawValue); w.append(spi); w.append(data)
    }

    public var description: String { "N(\(type.name)" + (data.isEmpty ? "" : " \(data.hexString)") + ")" }
}

/// Why a SIP message (or a part of one) was rejected. Each case names the offending piece
/// so the log line that drops a packet says what was wrong.
public enum SIPParseError: Error, Equatable, Sendable {
    /// No blank line ends the header section (yet: on a stream, wait for more bytes).
    case incompleteHeaders
    /// The message has no start line at all.
    case emptyMessage
    /// The request line or status line does not follow RFC 3261 §7.1/§7.2.
    case badStartLine(String)
    /// A SIP-Version other than SIP/2.0 (the core answers 505).
    case unsupportedVersion(String)
    /// A header line without a colon, with an empty or non-token name.
    case badHeaderLine(String)
    /// A header whose value does not follow its grammar.
    case badHeaderValue(header: String, reason: String)
    /// A header the message must carry (RFC 3261 §8.1.1) is absent.
    case missingHeader(String)
    /// Content-Length announces more bytes than the datagram holds.
    case contentLengthMismatch(declared: Int, available: Int)
    /// Header section bytes are not valid UTF-8.
    case invalidUTF8
    /// A URI that does not follow RFC 3261 §19.1 / RFC 3966.
    case badURI(String)
    /// The header section or message exceeds the configured maximum.
    case messageTooLarge(Int)
}

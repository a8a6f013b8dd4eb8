import Config

/// One request as a handler sees it: the message name and its scalar fields as text
/// (`imsi`, `apn`, `impu`, ...). The raw JSON, with `message_id`, stays with the server.
public struct RemoteAPIRequest: Sendable {
    public var message: String
    public var fields: [String: String]
    public subscript(_ key: String) -> String? { fields[key] }
}

/// Replies with the fields to add to `message`/`message_id`/`time`/`utc`; an `error` field
/// makes it an error reply. May be called on any thread, once.
public typealias RemoteAPIReply = @Sendable (JSONObject) -> Void

/// What one remote API (the MME's or the IMS's) serves. Called on the server's loop;
/// state owned by other loops must be read there (post, gather, then `reply`).
public protocol RemoteAPIHandler: AnyObject, Sendable {
    /// `"MME"` or `"IMS"` (the ready message's `type`).
    var type: String { get }
    /// `com_name`.
    var name: String { get }
    /// `com_auth`: nil serves every client at once.
    var comAuth: ComAuthConfig? { get }
    /// Handles a known message and returns true, or returns false (unknown message).
    func handle(_ request: RemoteAPIRequest, reply: @escaping RemoteAPIReply) -> Bool
}

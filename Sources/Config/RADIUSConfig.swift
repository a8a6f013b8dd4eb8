/// VoWiFi Core's own `radius` object in the MME config: the AAA server that lets Wi-Fi
/// access points (802.1X, WPA2/WPA3-Enterprise with EAP-AKA/AKA') authenticate SIMs
/// against the same HSS. Not a callbox parameter.
///
///     radius: { bind_addr: "127.0.0.1:1812", clients: [{ addr: "198.51.100.1", secret: "testing123" }] },
public struct RADIUSConfig: Sendable {
    public struct Client: Sendable, Equatable {
        public var addr: ConfigIPAddress
        public var secret: String
    }
    public var bindAddr: ConfigEndpoint
    public var clients: [Client] = []
    /// EAP-AKA' network name (AT_KDF_INPUT), TS 24.302 "WLAN".
    public var accessNetworkName: String = "WLAN"
    public var location: SourceLocation

    static func decode(_ value: ConfigValue, decoder: Decoder) -> RADIUSConfig? {
        guard let r = ObjectReader(value, path: "radius", pattern: "radius", decoder: decoder) else { return nil }
        let bind = r.endpoint("bind_addr", defaultPort: 1812)
            ?? ConfigEndpoint(address: ConfigIPAddress("127.0.0.1")!, port: 1812)
        var c = RADIUSConfig(bindAddr: bind, location: value.location)
        if let s = r.string("access_network_name") { c.accessNetworkName = s }
        for (i, item) in (r.array("clients") ?? []).enumerated() {
            guard let cr = ObjectReader(item, path: "radius.clients[\(i)]", pattern: "radius.clients[]", decoder: decoder) else { continue }
            let addr = cr.required(cr.address("addr"), "addr")
            let secret = cr.required(cr.string("secret"), "secret")
            if let secret, secret.isEmpty {
                decoder.fail(.invalidValue, at: cr.raw("secret")?.location, "radius.clients[\(i)].secret must not be empty")
            }
            cr.finishStrict(what: "radius client parameter", documented: [])
            if let addr, let secret { c.clients.append(Client(addr: addr, secret: secret)) }
        }
        r.finishStrict(what: "radius parameter", documented: [])
        return c
    }
}

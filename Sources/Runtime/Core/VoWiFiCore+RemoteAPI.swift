import Config

extension VoWiFiCore {
    /// The callbox remote API: the MME's when its config (or `CoreOptions.mmeComAddr`) has
    /// `com_addr`, the IMS's likewise. Both run on loop 0 and post to the shards they read.
    func startRemoteAPIs() throws {
        guard let group, let cluster, let imsCluster else { return }
        let apis: [(String?, ConfigEndpoint?, RemoteAPIHandler)] = [
            (options.mmeComAddr, mme.comAddr, MMERemoteAPI(name: mme.comName, cluster: cluster, mme: mme)),
            (options.imsComAddr, ims.comAddr, IMSRemoteAPI(name: ims.comName, cluster: imsCluster, comAuth: ims.comAuth)),
        ]
        for (override, configured, handler) in apis {
            let address: SocketAddress
            if let o = override {
                guard let a = try? SocketAddress(parsing: o) else { throw CoreError.startup("remote API (\(handler.type)): \(o) is not an address:port") }
                address = a
            } else if let c = configured {
                do { address = try SocketAddress(host: c.address.text, port: c.port) }
                catch { throw CoreError.startup("remote API (\(handler.type)) com_addr \(c): \(error)") }
            } else { continue }
            let loop = group.loops[0], log = logger
            do {
                let server = try loop.submit { try RemoteAPIServer.start(address, on: loop, handler: handler, logger: log) }
                remoteAPIs.append(server)
            } catch {
                throw CoreError.startup("remote API (\(handler.type)) on \(address): \(error)")
            }
        }
    }
}

import AAA
import Config
import Crypto
import Foundation
import HSS
import IKEv2
import IMS
import SIP
import Wire

/// The whole core in one process: HSS, ePDG (IKEv2 + ESP), inner path and IMS, assembled
/// from the callbox-style configs and run on an event loop group.
public final class VoWiFiCore: @unchecked Sendable {
    // @unchecked: configured on the caller's thread before `start`; services then live on their loops.
    public let options: CoreOptions
    public let mme: MMEConfig
    public let ims: Config.IMSConfig
    public let epdgConfig: EPDGConfig
    public let hss: HSS
    public let logger: Logger
    public let policy: IKEResponderPolicy
    public let unsupportedAlgorithms: [String]
    public let certificate: EPDGCertificate.Loaded
    public let warnings: [String]
    public private(set) var group: EventLoopGroup?
    /// The ePDG shard on loop 0 (addresses, counters); `cluster` holds every shard.
    public private(set) var epdg: EPDGService?
    public private(set) var cluster: EPDGCluster?
    /// The IMS shards (one per loop) and their transports.
    public private(set) var imsCluster: IMSCluster?
    /// The IMS shard on loop 0 (its core's config; registrations are shared by all shards).
    public private(set) var imsHost: IMSHost?
    public private(set) var inProcess: InProcessInnerNetwork?
    public private(set) var tun: TUNInnerNetwork?
    /// The RADIUS server for Wi-Fi access points (the `radius` object of the MME config).
    public private(set) var radius: RADIUSUDPServer?
    public let pool: PDNAddressPool
    /// The remote APIs (`com_addr` of the MME config, then of the IMS config), on loop 0.
    public internal(set) var remoteAPIs: [RemoteAPIServer] = []
    public let keyLog: KeyLogFiles?

    public init(options: CoreOptions) throws {
        self.options = options
        var errors: [String] = [], warns: [String] = []
        var mmeC: MMEConfig? = nil, imsC: Config.IMSConfig? = nil
        do { let r = try MMEConfig.load(path: options.mmeConfigPath); mmeC = r.config; warns += r.warnings.map(\.description) }
        catch let e as ConfigError { errors += e.all.map { "error: \($0)" } }
        catch { errors.append("error: \(options.mmeConfigPath): \(error)") }
        do { let r = try Config.IMSConfig.load(path: options.imsConfigPath); imsC = r.config; warns += r.warnings.map(\.description) }
        catch let e as ConfigError { errors += e.all.map { "error: \($0)" } }
        catch { errors.append("error: \(options.imsConfigPath): \(error)") }
        guard errors.isEmpty, let mme = mmeC, let ims = imsC else { throw CoreError.config(errors) }
        guard let epdg = mme.epdg else { throw CoreError.config(["error: \(options.mmeConfigPath): no epdg object: the ePDG is not enabled"]) }
        let logOptions = LogOptions(parsing: options.logOptions ?? mme.logOptions ?? "all.level=error")
        warns += logOptions.ignored.map { "log_options: '\($0)' not understood, ignored" }
        self.mme = mme; self.ims = ims; self.epdgConfig = epdg; self.warnings = warns
        self.logOptions = logOptions
        do {
            // Callbox log_options (payload, key, max_size, time, file.rotate): Evidence/LogOptions.swift.
            let sink = try LogFileSink(path: options.logFile ?? mme.logFilename, options: logOptions)
            logger = try Logger(levels: logOptions.levels, destination: .lines { sink.write($0) })
        } catch { throw CoreError.startup("cannot open the log: \(error)") }
        keyLogDirectory = options.keyLogDirectory ?? epdg.keyLog
        do { keyLog = try keyLogDirectory.map { try KeyLogFiles(directory: $0) } }
        catch { throw CoreError.startup("cannot write the key files in \(keyLogDirectory ?? ""): \(error)") }
        do { capture = try options.capturePath.map { try CoreCapture(path: $0, maxSize: options.captureMaxSize) } }
        catch { throw CoreError.startup("cannot write the capture \(options.capturePath ?? ""): \(error)") }

        let subscribers: [Subscriber]
        do { subscribers = try Subscriber.from(ueDB: mme.ueDB) }
        catch { throw CoreError.config(["error: \(options.mmeConfigPath): ue_db: \(error)"]) }
        do { hss = try HSS(subscribers: subscribers, databasePath: options.sqnDatabase ?? epdg.sqnDB) }
        catch { throw CoreError.startup("HSS: cannot open the SQN database \(options.sqnDatabase ?? epdg.sqnDB): \(error)") }

        var epdgSettings = epdg
        if let o = options.omitAuthInFirstAuthRsp { epdgSettings.omitAuthInFirstAuthRsp = o }
        let mapped = EPDGPolicy.make(epdg: epdgSettings, mme: mme)
        policy = try EPDGPeerCertificates.apply(options.peerCertificateAuthorities, to: mapped.policy)
        unsupportedAlgorithms = mapped.unsupported
        let fqdn = "epdg.epc.mnc\(mme.plmn.mnc3).mcc\(mme.plmn.mcc).pub.3gppnetwork.org"
        do { certificate = try EPDGCertificate.load(keyPath: epdg.privateKeyPath, certificatePath: epdg.certificatePath, fqdn: fqdn) }
        catch { throw CoreError.startup("ePDG certificate: cannot load or create \(epdg.privateKeyPath) / \(epdg.certificatePath): \(error)") }
        pool = PDNAddressPool(pdns: mme.pdnList, emergencyAlias: epdg.idrForEmergency)
    }

    private let keyLogDirectory: String?
    /// The parsed `log_options`.
    public let logOptions: LogOptions
    /// The pcapng capture (`CoreOptions.capturePath`).
    public let capture: CoreCapture?
    /// Capture, key files, decoded logs and events, shared by the ePDG and the IMS host.
    public private(set) var evidence: CoreEvidence?

    /// Whether SK_* and ESP keys go into the log (`ikev2.key=1` or `ipsec.key=1`).
    var keyLogging: Bool { logOptions.key(.ikev2) || logOptions.key(.ipsec) }

    /// Binds every service on one loop and returns once they listen.
    public func start() throws {
        MallocTuning.apply()
        let group: EventLoopGroup
        do { group = try EventLoopGroup(loopCount: max(1, options.loops ?? EventLoopGroup.coreCount)) } catch { throw CoreError.startup("\(error)") }
        self.group = group
        let loop = group.loops[0]
        let host = options.epdgHost ?? epdgConfig.bindAddr.address.text
        let ikeAddr: SocketAddress, natAddr: SocketAddress
        do {
            ikeAddr = try SocketAddress(host: host, port: options.ikePort ?? epdgConfig.bindAddr.port)
            natAddr = try SocketAddress(host: host, port: options.natTPort ?? epdgConfig.natTPort)
        } catch { throw CoreError.startup("ePDG bind_addr: \(error)") }
        var sipSockets: [SocketAddress] = []
        // Each socket bound for a sip_addr serves that entry's `addr` (its media range).
        var advertised: [String?] = []
        let entries = options.sipSocketAddresses.map { $0.map { ($0, String?.none) } }
            ?? ims.sipAddr.map { ("\($0.bindAddr.address.text)|\($0.bindAddr.port)", Optional($0.addr.address.text)) }
        for (a, served) in entries {
            let parts = a.split(separator: "|")
            if parts.count == 2, let p = UInt16(parts[1]), let s = try? SocketAddress(host: String(parts[0]), port: p) { sipSockets.append(s) }
            else if let s = try? SocketAddress(parsing: a) { sipSockets.append(s) }
            else { continue }
            advertised.append(served)
        }
        let keyLogging = self.keyLogging
        let sockets = sipSockets
        let served = advertised
        // One evidence sink (capture, key files, decoded logs, events) for every shard: it locks.
        let ev = CoreEvidence(logger: logger, options: logOptions, capture: capture, keyFiles: keyLog?.writer, events: options.events)
        self.evidence = ev
        do {
            // Loop 0 holds the inner network; the IMS and the ePDG are sharded over every loop.
            let inner: InnerNetwork = try loop.submit { [self] in
                let inner: InnerNetwork
                var inProc: InProcessInnerNetwork? = nil
                switch options.innerPath {
                case .inProcess:
                    inProc = InProcessInnerNetwork(); inner = inProc!
                case .tun:
                    let t = try TUNInnerNetwork(name: epdgConfig.tunIfname, pdns: mme.pdnList, on: loop)
                    self.tun = t; inner = t
                }
                self.inProcess = inProc
                return inner
            }
            let imsConfig = IMSConfigMapping.make(ims, mme: mme)
            let subscribers = HSSIMSSubscribers(hss: hss, ueDB: ims.ueDB.isEmpty ? mme.ueDB : ims.ueDB, plmn: mme.plmn, domain: imsConfig.domain)
            let imsCluster = IMSCluster(group: group, socketAddresses: sockets, advertised: served, inner: inProcess, logger: logger)
            let shardCount = group.loops.count
            try imsCluster.start(evidence: ev) { i, store in
                IMSCore(config: IMSCluster.shardConfig(imsConfig, shard: i, of: shardCount), subscribers: subscribers, store: store, shard: i)
            }
            self.imsCluster = imsCluster
            self.imsHost = imsCluster.shards.first
            let cluster = EPDGCluster(group: group, ikeAddress: ikeAddr, natTAddress: natAddr, inner: inner)
            try cluster.start { [self] _, shardInner in
                // The protocol cores are made on the loop that will own them.
                let responder = IKEResponder(policy: policy, vectors: HSSVectorSource(hss: hss), pool: pool, signer: certificate.signer)
                responder.errorInjection = EPDGPolicy.errorInjection(epdgConfig.ikeGenerateError)
                // Only build the IKE log text the log will keep.
                let ikeLevel = logger.level(of: .ikev2) > logger.level(of: .eap) ? logger.level(of: .ikev2) : logger.level(of: .eap)
                responder.logLevel = ikeLevel == .debug ? .debug : ikeLevel == .info ? .info : .error
                let e = EPDGService(ikeAddress: ikeAddr, natTAddress: natAddr, responder: responder, inner: shardInner,
                                    logger: logger, keyLog: nil, keyLogging: keyLogging)   // key files: `evidence`
                e.evidence = ev
                e.dontFragment = epdgConfig.dontFragment
                let gateways = mme.pdnList.first?.pCSCFAddr ?? []
                if let g = gateways.first(where: { !$0.isIPv6 }) { e.gatewayV4 = g.bytes }
                if let g = gateways.first(where: { $0.isIPv6 }) { e.gatewayV6 = g.bytes }
                return e
            }
            self.cluster = cluster
            self.epdg = cluster.shards.first
            if let rc = mme.radius { try startRADIUS(rc) }
            try startRemoteAPIs()
        } catch let e as RuntimeError {
            group.shutdown(); self.group = nil
            throw CoreError.startup(e.description)
        } catch {
            group.shutdown(); self.group = nil
            throw CoreError.startup("\(error)")
        }
    }

    /// Starts the AAA: EAP-AKA/AKA' over RADIUS on the same HSS the ePDG uses.
    private func startRADIUS(_ rc: RADIUSConfig) throws {
        let clients = rc.clients.compactMap { c in IPAddress(bytes: c.addr.bytes).map { RADIUSClient(address: $0, secret: c.secret) } }
        let log = logger
        let server = RADIUSServer(config: RADIUSServerConfig(clients: clients, eap: EAPAKAServerConfig(accessNetworkName: rc.accessNetworkName)),
                                  hss: hss, log: { level, line in
                                      log.log(.eap, level == .error ? .error : level == .info ? .info : .debug, "RADIUS: \(line)")
                                  })
        do {
            let udp = try RADIUSUDPServer(server: server, bindAddress: rc.bindAddr.address.text, port: rc.bindAddr.port, log: { level, line in
                log.log(.eap, level == .error ? .error : level == .info ? .info : .debug, "RADIUS: \(line)")
            })
            try udp.start()
            radius = udp
        } catch {
            throw CoreError.startup("RADIUS server on \(rc.bindAddr): \(error)")
        }
    }

    /// Deletes every IKE SA (INFORMATIONAL DELETE), closes sockets, stops the loops.
    public func stop() {
        radius?.stop(); radius = nil
        guard let group else { return }
        let loop = group.loops[0]
        let apis = remoteAPIs
        _ = try? loop.submit { for a in apis { a.stop() } }
        remoteAPIs = []
        cluster?.stop()
        imsCluster?.stop()
        _ = try? loop.submit { [self] in tun?.close() }
        group.shutdown()
        self.group = nil
        capture?.close()
    }
}

import Config
import Crypto
import Foundation
import HSS
import IKEv2
import IMS
import SIP

/// The whole core in one process: HSS, ePDG (IKEv2 + ESP), inner path and IMS, assembled
/// from the callbox-style configs and run on an event loop group.
public final class VoWiFiCore: @unchecked Sendable {
    // @unchecked: configured on the caller's thread before `start`; services then live on loop 0.
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
    public private(set) var epdg: EPDGService?
    public private(set) var imsHost: IMSHost?
    public private(set) var inProcess: InProcessInnerNetwork?
    public private(set) var tun: TUNInnerNetwork?
    public let pool: PDNAddressPool
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
        self.mme = mme; self.ims = ims; self.epdgConfig = epdg; self.warnings = warns

        let logOptions = options.logOptions ?? mme.logOptions ?? "all.level=error"
        do {
            if let f = options.logFile ?? mme.logFilename { logger = try Logger(options: logOptions, destination: .file(path: f)) }
            else { logger = try Logger(options: logOptions) }
        } catch { throw CoreError.startup("cannot open the log: \(error)") }
        keyLogDirectory = options.keyLogDirectory ?? epdg.keyLog
        keyLog = keyLogDirectory.map { KeyLogFiles(directory: $0) }

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

    /// Whether SK_* and ESP keys go into the log (`ikev2.key=1` or `ipsec.key=1`).
    var keyLogging: Bool {
        let o = (options.logOptions ?? mme.logOptions ?? "").replacingOccurrences(of: " ", with: "")
        return o.contains("ikev2.key=1") || o.contains("ipsec.key=1") || o.contains("all.key=1")
    }

    /// Binds every service on one loop and returns once they listen.
    public func start() throws {
        let group: EventLoopGroup
        do { group = try EventLoopGroup(loopCount: 1) } catch { throw CoreError.startup("\(error)") }
        self.group = group
        let loop = group.loops[0]
        let host = options.epdgHost ?? epdgConfig.bindAddr.address.text
        let ikeAddr: SocketAddress, natAddr: SocketAddress
        do {
            ikeAddr = try SocketAddress(host: host, port: options.ikePort ?? epdgConfig.bindAddr.port)
            natAddr = try SocketAddress(host: host, port: options.natTPort ?? epdgConfig.natTPort)
        } catch { throw CoreError.startup("ePDG bind_addr: \(error)") }
        var sipSockets: [SocketAddress] = []
        for a in options.sipSocketAddresses ?? ims.sipAddr.map({ "\($0.bindAddr.address.text)|\($0.bindAddr.port)" }) {
            let parts = a.split(separator: "|")
            if parts.count == 2, let p = UInt16(parts[1]), let s = try? SocketAddress(host: String(parts[0]), port: p) { sipSockets.append(s) }
            else if let s = try? SocketAddress(parsing: a) { sipSockets.append(s) }
        }
        let keyLogging = self.keyLogging
        let keyLog = self.keyLog
        let sockets = sipSockets
        do {
            try loop.submit { [self] in
                // The protocol cores are made on the loop that will own them.
                let responder = IKEResponder(policy: policy, vectors: HSSVectorSource(hss: hss), pool: pool, signer: certificate.signer)
                let imsConfig = IMSConfigMapping.make(ims, mme: mme)
                let core = IMSCore(config: imsConfig, subscribers: HSSIMSSubscribers(hss: hss, ueDB: ims.ueDB.isEmpty ? mme.ueDB : ims.ueDB,
                                                                                     plmn: mme.plmn, domain: imsConfig.domain))
                let inner: InnerNetwork
                var inProc: InProcessInnerNetwork? = nil
                switch options.innerPath {
                case .inProcess:
                    inProc = InProcessInnerNetwork(); inner = inProc!
                case .tun:
                    let t = try TUNInnerNetwork(name: epdgConfig.tunIfname, pdns: mme.pdnList, on: loop)
                    self.tun = t; inner = t
                }
                let e = EPDGService(ikeAddress: ikeAddr, natTAddress: natAddr, responder: responder, inner: inner,
                                    logger: logger, keyLog: keyLog, keyLogging: keyLogging)
                try e.start(on: loop)
                self.epdg = e
                self.inProcess = inProc
                let h = IMSHost(core: core, socketAddresses: sockets, inner: inProc, logger: logger)
                try h.start(on: loop)
                self.imsHost = h
            }
        } catch let e as RuntimeError {
            group.shutdown(); self.group = nil
            throw CoreError.startup(e.description)
        } catch {
            group.shutdown(); self.group = nil
            throw CoreError.startup("\(error)")
        }
    }

    /// Deletes every IKE SA (INFORMATIONAL DELETE), closes sockets, stops the loops.
    public func stop() {
        guard let group else { return }
        let loop = group.loops[0]
        _ = try? loop.submit { [self] in
            epdg?.stop()
            imsHost?.stop()
            tun?.close()
        }
        group.shutdown()
        self.group = nil
    }
}

import IMS
import SIP

/// Idle SIP TCP connections (ims.cfg `tcp_keepalive`, `tcp_keepcount`, `tcp_idle_timeout`).
enum IMSStreamIdle {
    /// Timer key of the idle sweep (connect timeouts use keys from `IMSOutgoingTCP.timerBase`).
    static let sweepKey: UInt64 = 1

    /// How often idle connections are looked for: a quarter of the idle limit (so one is
    /// closed at most 25 % late), between 0.1 s and 60 s.
    static func sweepInterval(_ idle: Double) -> Duration {
        .milliseconds(Int64(min(60, max(0.1, idle / 4)) * 1000))
    }
}

extension IMSStreamTransport {
    /// The IMS settings (every shard has the same TCP ones).
    var imsConfig: IMS.IMSConfig? { cluster.shards.first?.core.config }

    /// TCP keepalive on a SIP connection, so the kernel notices a phone that vanished.
    func applyKeepalive(_ s: StreamID) {
        guard let c = imsConfig, c.tcpKeepalive > 0, let conn = context.connection(s) else { return }
        do { try conn.setKeepalive(idle: c.tcpKeepalive, count: c.tcpKeepcount) } catch {
            logger.error(.sip, "TCP keepalive on \(peerByStream[s].map { "\($0)" } ?? "\(s)"): \(error)")
        }
    }

    /// Arms the next idle sweep (none when `tcp_idle_timeout` is 0).
    func armIdleSweep() {
        guard let c = imsConfig, c.tcpIdleTimeout > 0 else { return }
        context.armTimer(key: IMSStreamIdle.sweepKey, after: IMSStreamIdle.sweepInterval(c.tcpIdleTimeout))
    }

    /// Closes the connections idle for `tcp_idle_timeout` that no binding or transaction uses
    /// (asked of every shard; a connection that carried SIP meanwhile stays).
    func sweepIdle() {
        armIdleSweep()
        guard let limit = imsConfig?.tcpIdleTimeout, limit > 0 else { return }
        let now = IMSHost.seconds()
        let idle = peerByStream.filter { s, _ in outgoing[s] == nil && now - (lastActivity[s] ?? now) >= limit }
        guard !idle.isEmpty else { return }
        cluster.peersInUse(Array(idle.values)) { [self] busy in
            let now = IMSHost.seconds()
            for (s, p) in idle where !busy.contains(p) && peerByStream[s] == p {
                guard let last = lastActivity[s], now - last >= limit else { continue }
                logger.info(.sip, "closing the TCP connection with \(p): no SIP for \(Int(now - last)) s (tcp_idle_timeout \(limit) s), no binding or transaction uses it",
                            ue: p.description)
                context.close(s)
            }
        }
    }
}

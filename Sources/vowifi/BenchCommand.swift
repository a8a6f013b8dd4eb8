import Foundation
import Runtime

/// `vowifi bench <name>`: measurements of the hot paths. `loop` is the event loop's UDP
/// echo rate; the other names are added by their layers.
enum BenchCommand {
    static func run(_ args: [String]) -> Int32 {
        guard let name = args.first else {
            FileHandle.standardError.write(Data("usage: vowifi bench loop|crypto|aka|ike|esp|sip [options]\n".utf8))
            return 2
        }
        let rest = Array(args.dropFirst())
        switch name {
        case "loop": return loop(rest)
        default:
            FileHandle.standardError.write(Data("vowifi bench: unknown benchmark '\(name)'\n".utf8))
            return 2
        }
    }

    /// `vowifi bench loop [--seconds S] [--window W] [--size BYTES] [--loops N]`
    static func loop(_ args: [String]) -> Int32 {
        var seconds = 3.0, window = 256, size = 200, loops = EventLoopGroup.coreCount
        var i = 0
        while i < args.count {
            let value = i + 1 < args.count ? args[i + 1] : ""
            switch args[i] {
            case "--seconds": seconds = Double(value) ?? seconds
            case "--window": window = Int(value) ?? window
            case "--size": size = Int(value) ?? size
            case "--loops": loops = Int(value) ?? loops
            default:
                FileHandle.standardError.write(Data("vowifi bench loop: unknown option '\(args[i])'\n".utf8))
                return 2
            }
            i += 2
        }
        print("machine: \(LoopBenchmark.machineDescription())")
        print("UDP echo on 127.0.0.1, \(size)-byte datagrams, \(window) in flight per client, \(seconds) s per row")
        print("(clients use sendmmsg/recvmmsg in every row; only the loop side changes)")
        var rows: [(String, Int, Int, Int)] = [("1 loop, recvfrom/sendto", 1, 1, 1), ("1 loop, recvmmsg/sendmmsg x32", 1, 32, 1)]
        if loops > 1 {
            rows.append(("\(loops) loops SO_REUSEPORT, x32", loops, 32, loops))
        }
        let header = "mode".padding(toLength: 36, withPad: " ", startingAt: 0) + "  loops  clients      echoed/s   per loop/s    lost"
        print(header)
        print(String(repeating: "-", count: header.count))
        for (label, l, batch, clients) in rows {
            do {
                let r = try LoopBenchmark.udpEcho(label: label, loops: l, batchSize: batch, clients: clients,
                                                  window: window, payloadSize: size, seconds: seconds)
                func col(_ s: String, _ w: Int) -> String { String(repeating: " ", count: max(0, w - s.count)) + s }
                print(label.padding(toLength: 36, withPad: " ", startingAt: 0)
                      + col("\(r.loops)", 7) + col("\(r.clients)", 9)
                      + col(String(format: "%.0f", r.perSecond), 14) + col(String(format: "%.0f", r.perSecondPerLoop), 13)
                      + col("\(r.lost)", 8))
            } catch {
                FileHandle.standardError.write(Data("vowifi bench loop: \(error)\n".utf8))
                return 1
            }
        }
        let t = LoopBenchmark.timerWheel()
        print(String(format: "timer wheel, 1M timers over 60 s (1 ms tick, 8192 slots): schedule %.0f ns, cancel %.0f ns, expire %.0f ns per timer (1 ms steps)",
                     t.schedule, t.cancel, t.fire))
        return 0
    }
}

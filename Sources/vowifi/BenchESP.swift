import Crypto
import ESP
import Foundation

/// `vowifi bench esp`: in-process seal/open per core at 100 B and 1400 B for AES-128-GCM
/// and AES-128-CBC + HMAC-SHA1-96, beside `openssl speed` for the same algorithms.
enum BenchESP {
    static func run(_ args: [String]) -> Int32 {
        let seconds = args.firstIndex(of: "--seconds").flatMap { args.count > $0 + 1 ? Double(args[$0 + 1]) : nil } ?? 2
        print("ESP in-process, one core (\(OpenSSLSpeed.machine()))")
        print(pad("transform", 44) + pad("inner B", 9) + pad("seal pkt/s", 13) + pad("open pkt/s", 13) + pad("seal Gbit/s", 12) + "openssl speed Gbit/s")
        let cases: [(EncryptionAlgorithm, IntegrityAlgorithm?, String)] = [
            (.ENCR_AES_GCM_16(keyBits: 128), nil, "aes-128-gcm"),
            (.ENCR_AES_CBC(keyBits: 128), .AUTH_HMAC_SHA1_96, "aes-128-cbc"),
        ]
        for (enc, integ, osslName) in cases {
            for size in [100, 1400] {
                do {
                    let r = try ESPBench.run(encryption: enc, integrity: integ, innerSize: size, seconds: seconds)
                    var ceiling = OpenSSLSpeed.evp(osslName, bytes: size) ?? 0
                    if integ != nil, let h = OpenSSLSpeed.evp("sha1", bytes: size), h > 0, ceiling > 0 {
                        // CBC then HMAC: the ceiling is the harmonic combination of both passes.
                        ceiling = 1 / (1 / ceiling + 1 / h)
                    }
                    print(pad(r.name, 44) + pad("\(size)", 9) + pad(fmt(r.sealPerSecond), 13) + pad(fmt(r.openPerSecond), 13)
                          + pad(String(format: "%.2f", r.sealBytesPerSecond * 8 / 1e9), 12)
                          + String(format: "%.2f (%.0f %%)", ceiling * 8 / 1e9, ceiling > 0 ? 100 * r.sealBytesPerSecond / ceiling : 0))
                } catch {
                    print("\(enc): \(error)")
                    return 1
                }
            }
        }
        print("")
        print("ESP-in-UDP through loopback sockets: one sender thread seals, one event loop receives and opens")
        print(pad("transform", 44) + pad("inner B", 9) + pad("recv batch", 12) + pad("sent pkt/s", 13) + "delivered pkt/s")
        for (enc, integ, _) in cases {
            for size in [100, 1400] {
                for batch in [1, 32] {
                    do {
                        let r = try BenchESPSockets.run(encryption: enc, integrity: integ, size: size, batch: batch, seconds: seconds)
                        let name = integ.map { "\(enc) + \($0)" } ?? "\(enc)"
                        print(pad(name, 44) + pad("\(size)", 9) + pad("\(batch)", 12) + pad(fmt(r.sent), 13) + fmt(r.delivered))
                    } catch {
                        print("\(enc): \(error)")
                        return 1
                    }
                }
            }
        }
        return 0
    }

    static func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count) }
    static func fmt(_ v: Double) -> String { v >= 1e6 ? String(format: "%.2fM", v / 1e6) : String(format: "%.0fk", v / 1e3) }
}

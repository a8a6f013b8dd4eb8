// swift-tools-version:6.0
// VoWiFi Core: one target per layer (see docs/DESIGN.md). Swift 6 language mode.
import PackageDescription

let package = Package(
    name: "VoWiFiCore",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "vowifi", targets: ["vowifi"]),
    ],
    targets: [
        .systemLibrary(name: "COpenSSL", path: "Sources/COpenSSL", pkgConfig: "openssl",
                       providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CSQLite", path: "Sources/CSQLite", pkgConfig: "sqlite3",
                       providers: [.apt(["libsqlite3-dev"])]),
        .target(name: "Crypto", dependencies: ["COpenSSL"]),
        .target(name: "AKA", dependencies: ["Crypto"]),
        .target(name: "Config"),
        .target(name: "WebSocket", dependencies: ["Crypto"]),
        .target(name: "Wire"),
        .target(name: "IKEv2", dependencies: ["Crypto", "AKA", "Wire"]),
        .target(name: "ESP", dependencies: ["Crypto", "Wire"]),
        .target(name: "SIP", dependencies: ["Wire"]),
        .target(name: "IMS", dependencies: ["SIP", "AKA", "Crypto"]),
        .target(name: "HSS", dependencies: ["AKA", "Config", "CSQLite"]),
        .target(name: "AAA", dependencies: ["Crypto", "AKA", "HSS", "Wire", "IKEv2"]),
        .target(name: "Analysis", dependencies: ["Crypto", "Wire", "IKEv2", "ESP", "SIP"]),
        .target(name: "Runtime", dependencies: ["Crypto", "AKA", "Config", "Wire", "IKEv2", "ESP", "SIP", "IMS", "HSS", "AAA", "Analysis", "WebSocket"]),
        .target(name: "UESim", dependencies: ["IKEv2", "ESP", "SIP", "AKA", "Crypto", "Wire"]),
        .executableTarget(name: "vowifi", dependencies: ["Runtime", "UESim", "Analysis", "Config"]),
        // Fuzz harnesses (docs/FUZZING.md): `make fuzz` builds this with -sanitize=fuzzer and
        // -D VOWIFI_LIBFUZZER so libFuzzer drives it; the normal build only replays inputs.
        .executableTarget(name: "vowifi-fuzz", dependencies: ["IKEv2", "ESP", "SIP", "IMS", "AAA", "HSS", "Analysis",
                                                              "Config", "AKA", "Crypto", "Wire"],
                          path: "Fuzz/Harnesses"),

        .target(name: "TestSupport", dependencies: ["Wire", "SIP", "AKA"], path: "Tests/TestSupport"),
        .testTarget(name: "CryptoTests", dependencies: ["Crypto", "TestSupport"]),
        .testTarget(name: "AKATests", dependencies: ["AKA", "TestSupport"]),
        .testTarget(name: "WebSocketTests", dependencies: ["WebSocket", "TestSupport"]),
        .testTarget(name: "ConfigTests", dependencies: ["Config", "TestSupport"]),
        .testTarget(name: "WireTests", dependencies: ["Wire", "TestSupport"]),
        .testTarget(name: "IKEv2Tests", dependencies: ["IKEv2", "TestSupport"]),
        .testTarget(name: "ESPTests", dependencies: ["ESP", "TestSupport"]),
        .testTarget(name: "SIPTests", dependencies: ["SIP", "TestSupport"]),
        .testTarget(name: "IMSTests", dependencies: ["IMS", "TestSupport"]),
        // SIPp (and Kamailio in `vowifi bench sip`) against the core's IMS on 127.0.0.1.
        .testTarget(name: "IMSInteropTests", dependencies: ["Runtime", "IMS", "SIP", "AKA", "TestSupport"], exclude: ["scenarios"]),
        .testTarget(name: "HSSTests", dependencies: ["HSS", "TestSupport"]),
        .testTarget(name: "AAATests", dependencies: ["AAA", "TestSupport"]),
        .testTarget(name: "AnalysisTests", dependencies: ["Analysis", "TestSupport"]),
        // Runs the built `vowifi` binary: demo, run/SIGTERM, config check.
        .testTarget(name: "CLITests", dependencies: ["TestSupport"]),
        .testTarget(name: "RuntimeTests", dependencies: ["Runtime", "AAA", "TestSupport"]),
        .testTarget(name: "UESimTests", dependencies: ["UESim", "TestSupport"]),
        // strongSwan against our ePDG and our AAA, in network namespaces (root only).
        .testTarget(name: "SwanInteropTests", dependencies: ["Runtime", "IKEv2", "UESim", "AAA", "HSS", "ESP", "AKA", "Crypto", "Wire", "TestSupport"],
                    exclude: ["README.md"]),
    ]
)

import Config

/// The config language (Sources/Config: Lexer, Parser with #define/#if and include, the
/// expression Evaluator) and the typed MME/IMS decoders behind `vowifi config check`. Every
/// include resolves to the input itself, so include cycles and depth are exercised too.
let configHarness = Harness(name: "config", summary: "config Lexer/Parser/Evaluator, includes, MME/IMS typed decode") { data in
    guard let object = try? ConfigDocument.parse(path: "fuzz.cfg", readFile: { _ in data }) else { return }
    if let (mme, _) = try? MMEConfig.decode(object, path: "fuzz.cfg") {
        _ = mme.epdg?.resolvedParameters
        _ = mme.pdnList.map(\.summary)
        _ = mme.ueDB.map(\.summary)
        _ = mme.expandedUEDB.count
        _ = mme.emergencyPDN
    }
    if let (ims, _) = try? IMSConfig.decode(object, path: "fuzz.cfg") { _ = ims.ueDB.count }
}

import Foundation

/// One fuzz harness: a name and a function of one input. Rejected input (a thrown error) is
/// fine; a trap, an ASan report or a failed `require` is a bug in the product.
struct Harness: Sendable {
    let name: String
    let summary: String
    let run: @Sendable ([UInt8]) -> Void
}

/// An invariant of the code under test; failing it crashes, so libFuzzer keeps the input.
func require(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
             file: StaticString = #fileID, line: UInt = #line) {
    if !condition() { fatalError("invariant: \(message())", file: file, line: line) }
}

/// Every harness, by the name `make fuzz` and the corpus directory use.
let allHarnesses: [Harness] = [
    ikeCodecHarness, ikeResponderHarness, ikeEstablishedHarness, eapHarness,
    sipHarness, sdpHarness, imsCoreHarness, radiusHarness, pcapngHarness, espHarness, configHarness,
]

#if VOWIFI_LIBFUZZER
/// The harness libFuzzer runs, chosen once by `LLVMFuzzerInitialize`.
nonisolated(unsafe) var selectedHarness: Harness?

/// `vowifi-fuzz <harness> [libFuzzer options] [corpus dirs]`: libFuzzer's own main (linked by
/// -sanitize=fuzzer) calls this first; it takes the harness name out of argv.
@_cdecl("LLVMFuzzerInitialize")
public func fuzzerInitialize(_ argc: UnsafeMutablePointer<CInt>,
                             _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> CInt {
    let n = Int(argc.pointee)
    guard n >= 2, let args = argv.pointee, let name = args[1].map({ String(cString: $0) }),
          let h = allHarnesses.first(where: { $0.name == name }) else {
        FileHandle.standardError.write(Data(usage.utf8))
        exit(2)
    }
    selectedHarness = h
    for i in 1..<n { args[i] = args[i + 1] }
    argc.pointee -= 1
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    selectedHarness!.run(size == 0 || data == nil ? [] : Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}
#else
/// In a normal build, `vowifi-fuzz <harness> paths…` replays files (or every file of a
/// directory) through the harness without libFuzzer; `vowifi-fuzz seeds DIR` writes seeds.
@main
enum FuzzMain {
    static func main() {
        let args = CommandLine.arguments
        if args.count == 3, args[1] == "seeds" {
            do { try SeedWriter.write(to: args[2]) } catch { FileHandle.standardError.write(Data("seeds: \(error)\n".utf8)); exit(1) }
            exit(0)
        }
        guard args.count >= 2, let harness = allHarnesses.first(where: { $0.name == args[1] }) else {
            FileHandle.standardError.write(Data(usage.utf8))
            exit(args.count >= 2 && args[1] == "list" ? 0 : 2)
        }
        var inputs = 0
        for path in args.dropFirst(2) {
            for file in files(at: path) {
                guard let d = FileManager.default.contents(atPath: file) else { continue }
                harness.run([UInt8](d))
                inputs += 1
            }
        }
        print("\(harness.name): \(inputs) inputs replayed, no failure")
    }

    /// A file, or the files of a directory (not recursive), sorted.
    static func files(at path: String) -> [String] {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { return [] }
        guard isDir.boolValue else { return [path] }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return names.sorted().map { path + "/" + $0 }
    }
}
#endif

var usage: String {
    var text = "usage: vowifi-fuzz <harness> [libFuzzer options and corpus dirs, in the make fuzz build | files and directories to replay]\n"
        + "       vowifi-fuzz seeds <corpus dir>   (normal build)\nharnesses:\n"
    for h in allHarnesses { text += "  \(h.name.padding(toLength: 16, withPad: " ", startingAt: 0)) \(h.summary)\n" }
    return text
}

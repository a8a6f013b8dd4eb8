import Foundation
#if VOWIFI_LIBFUZZER
import CLibFuzzer
#endif

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

/// The harness libFuzzer's C callback runs (a C function pointer cannot capture it).
nonisolated(unsafe) var selectedHarness: Harness?

/// `vowifi-fuzz <harness> [libFuzzer options] [corpus dirs]` under `make fuzz` (built with
/// -sanitize=fuzzer and -D VOWIFI_LIBFUZZER); in a normal build `vowifi-fuzz <harness> paths…`
/// replays files (or every file in a directory) through the harness without libFuzzer.
@main
enum FuzzMain {
    static func main() {
        let args = CommandLine.arguments
        if args.count == 3, args[1] == "seeds" {
            do { try SeedWriter.write(to: args[2]) } catch { FileHandle.standardError.write(Data("seeds: \(error)\n".utf8)); exit(1) }
            exit(0)
        }
        guard args.count >= 2, let harness = allHarnesses.first(where: { $0.name == args[1] }) else {
            var text = "usage: vowifi-fuzz <harness> [libFuzzer options | files and directories to replay]\n       vowifi-fuzz seeds <corpus dir>\nharnesses:\n"
            for h in allHarnesses { text += "  \(h.name.padding(toLength: 16, withPad: " ", startingAt: 0)) \(h.summary)\n" }
            FileHandle.standardError.write(Data(text.utf8))
            exit(args.count >= 2 && args[1] == "list" ? 0 : 2)
        }
        selectedHarness = harness
        #if VOWIFI_LIBFUZZER
        // libFuzzer sees argv without the harness name.
        var cArgs: [UnsafeMutablePointer<CChar>?] = ([args[0]] + args.dropFirst(2)).map { strdup($0) } + [nil]
        var argc = CInt(cArgs.count - 1)
        let rc = cArgs.withUnsafeMutableBufferPointer { buf -> CInt in
            var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = buf.baseAddress
            return LLVMFuzzerRunDriver(&argc, &argv) { data, size in
                selectedHarness!.run(size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size)))
                return 0
            }
        }
        exit(rc)
        #else
        var inputs = 0
        for path in args.dropFirst(2) {
            for file in files(at: path) {
                guard let d = FileManager.default.contents(atPath: file) else { continue }
                harness.run([UInt8](d))
                inputs += 1
            }
        }
        print("\(harness.name): \(inputs) inputs replayed, no failure")
        #endif
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

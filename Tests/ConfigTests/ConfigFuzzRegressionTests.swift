import XCTest
@testable import Config

/// Inputs the `config` fuzz harness (Fuzz/Harnesses, docs/FUZZING.md) found, kept so
/// `make test` checks them without libFuzzer.
final class ConfigFuzzRegressionTests: XCTestCase {
    /// The file the fuzzer wrote, as it was: its include resolves relative to the including
    /// file, so in a tree where `n-osuch/ue_db.cfg` is that same file again (a directory link
    /// to `.`), each level names a new path and the cycle check never fired: the parser
    /// recursed until the stack overflowed.
    func testIncludeChainOfDistinctPathsIsBoundedWithAnError() throws {
        let text = "/* broken: the included ue_db file does not exist */\nplmn: \"00101\",\npdn_list: [ { access_point_name: \"ims\" } ],\n\ninclude \"n-osuch/ue_db.cfg\",\n"
        var reads = 0
        XCTAssertThrowsError(try ConfigDocument.parse(path: "fuzz.cfg", readFile: { _ in reads += 1; return Array(text.utf8) })) { e in
            guard let e = e as? ConfigError else { return XCTFail("\(e)") }
            XCTAssertEqual(e.kind, .include)
            XCTAssertTrue(e.message.contains("nested more than \(ParseContext.maxIncludeDepth) deep"), e.message)
            XCTAssertTrue(e.location?.file.hasSuffix("n-osuch/ue_db.cfg") ?? false, "\(String(describing: e.location))")
        }
        XCTAssertEqual(reads, ParseContext.maxIncludeDepth + 1, "the root file and the includes allowed")
    }

    /// An include continues the value nesting count of its site: 150 levels in each of two
    /// files are 300 levels of one value, over the bound of 200, so an error, not a deep stack.
    func testValueNestingCountsAcrossIncludes() throws {
        let open = String(repeating: "a: {", count: 150), close = String(repeating: "}", count: 150)
        let files = ["top/inner.cfg": open + "x: 1" + close]
        XCTAssertThrowsError(try ConfigDocument.parse(text: open + #"include "inner.cfg","# + close, file: "top/main.cfg", files: files)) { e in
            guard let e = e as? ConfigError else { return XCTFail("\(e)") }
            XCTAssertTrue(e.message.contains("nested more than 200 levels deep"), e.message)
        }
        // The same nesting split into 100 + 100 stays within the bound.
        let o100 = String(repeating: "a: {", count: 99), c100 = String(repeating: "}", count: 99)
        XCTAssertNoThrow(try ConfigDocument.parse(text: o100 + #"include "inner.cfg","# + c100, file: "top/main.cfg",
                                                  files: ["top/inner.cfg": o100 + "x: 1" + c100]))
    }
}

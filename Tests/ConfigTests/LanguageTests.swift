import XCTest
@testable import Config

/// The callbox config language: syntax, expressions, merge, include, preprocessor.
final class LanguageTests: XCTestCase {
    private func parse(_ text: String, files: [String: String] = [:]) throws -> ConfigObject {
        try ConfigDocument.parse(text: text, file: "t.cfg", files: files)
    }

    private func value(_ text: String) throws -> ConfigValue {
        let o = try parse("v: " + text)
        return try XCTUnwrap(o["v"])
    }

    /// The error thrown by `text`, or a test failure.
    func error(_ text: String, files: [String: String] = [:], file: StaticString = #filePath, line: UInt = #line) -> ConfigError? {
        do {
            _ = try ConfigDocument.parse(text: text, file: "t.cfg", files: files)
            XCTFail("expected an error", file: file, line: line)
        } catch let e as ConfigError {
            return e
        } catch {
            XCTFail("unexpected error type \(error)", file: file, line: line)
        }
        return nil
    }

    func testJSONWithCommentsUnquotedNamesTrailingCommas() throws {
        let o = try parse("""
        // line comment
        /* block
           comment */ a: 1, "5qi": 9, "100rel": true,
        b: { c: "x", d: [1, 2, 3,], }, // trailing commas
        e: null,
        """)
        XCTAssertEqual(o["a"]?.integer, 1)
        XCTAssertEqual(o["5qi"]?.integer, 9)
        XCTAssertEqual(o["100rel"]?.bool, true)
        XCTAssertEqual(o["b"]?.object?["c"]?.string, "x")
        XCTAssertEqual(o["b"]?.object?["d"]?.array?.compactMap(\.integer), [1, 2, 3])
        if case .null = o["e"]?.kind {} else { XCTFail("e is not null") }
        XCTAssertEqual(o.members.map(\.name), ["a", "5qi", "100rel", "b", "e"])
    }

    func testOptionalTopLevelBraces() throws {
        let braced = try parse("{ a: 1, b: \"two\" }")
        let bare = try parse("a: 1, b: \"two\"")
        XCTAssertEqual(braced["a"]?.integer, bare["a"]?.integer)
        XCTAssertEqual(braced["b"]?.string, "two")
        XCTAssertEqual(bare["b"]?.string, "two")
    }

    func testNumbersHexExactIntegersAndFloats() throws {
        XCTAssertEqual(try value("0x9001").integer, 0x9001)
        XCTAssertEqual(try value("0xFFFFFFFFFFFF").integer, 0xFFFF_FFFF_FFFF)
        if case .integer(let i) = try value("9007199254740993").kind {
            XCTAssertEqual(i, 9_007_199_254_740_993) // beyond a Double's 2^53: kept exact
        } else { XCTFail("not an integer") }
        XCTAssertEqual(try value("13.4").double, 13.4)
        XCTAssertEqual(try value("5e9").double, 5e9)
        XCTAssertEqual(try value(".5").double, 0.5)
    }

    func testArithmeticPrecedenceAndExactness() throws {
        XCTAssertEqual(try value("24*3600").integer, 86400)
        XCTAssertEqual(try value("2 + 3 * 4").integer, 14)
        XCTAssertEqual(try value("(2 + 3) * 4").integer, 20)
        XCTAssertEqual(try value("10 - 2 - 3").integer, 5)
        XCTAssertEqual(try value("-5 + 2").integer, -3)
        XCTAssertEqual(try value("- (1 + 2)").integer, -3)
        XCTAssertEqual(try value("7 / 2").double, 3.5)
        if case .integer(let i) = try value("8 / 2").kind { XCTAssertEqual(i, 4) } else { XCTFail("8/2 not integer") }
        XCTAssertEqual(try value("5*3600").integer, 18000)
    }

    func testStringConcatenationAndComparisons() throws {
        XCTAssertEqual(try value("\"127.0.0.1\" + \":\" + 500").string, "127.0.0.1:500")
        XCTAssertEqual(try value("\"a\\\"b\\n\"").string, "a\"b\n")
        XCTAssertEqual(try value("1 < 2").bool, true)
        XCTAssertEqual(try value("2 <= 1").bool, false)
        XCTAssertEqual(try value("3 >= 3 && 4 > 3").bool, true)
        XCTAssertEqual(try value("1 == 2 || 2 != 3").bool, true)
        XCTAssertEqual(try value("!1").bool, false)
        XCTAssertEqual(try value("!(1 == 2)").bool, true)
        XCTAssertEqual(try value("\"abc\" == \"abc\"").bool, true)
        XCTAssertEqual(try value("\"abc\" < \"abd\"").bool, true)
        XCTAssertEqual(try value("1 + 1 == 2 && !false").bool, true)
    }

    func testZeroAndOneAreBooleans() throws {
        XCTAssertEqual(try value("0").bool, false)
        XCTAssertEqual(try value("1").bool, true)
        XCTAssertNil(try value("2").bool)
        XCTAssertNil(try value("\"true\"").bool)
    }

    func testBackquoteStringsWithExpressionsAndDefinesSpanningLines() throws {
        XCTAssertEqual(try value("`abc${1+2}d`").string, "abc3d")
        let o = try parse("""
        #define N 4
        #define NAME "epdg"
        s: `first ${NAME}
        second ${N * 2} ${"x" + N}`,
        """)
        XCTAssertEqual(o["s"]?.string, "first epdg\nsecond 8 x4")
    }

    func testDuplicatePropertiesMergeRecursivelyLaterWins() throws {
        let o = try parse("""
        a: { x: 1, y: { p: 1, q: 2 } },
        b: 1,
        a: { y: { q: 3 }, z: 4 },
        b: 2,
        """)
        let a = try XCTUnwrap(o["a"]?.object)
        XCTAssertEqual(a["x"]?.integer, 1)
        XCTAssertEqual(a["y"]?.object?["p"]?.integer, 1)
        XCTAssertEqual(a["y"]?.object?["q"]?.integer, 3)
        XCTAssertEqual(a["z"]?.integer, 4)
        XCTAssertEqual(o["b"]?.integer, 2)
        XCTAssertEqual(o.members.count, 2)
    }

    /// The reference's own example of array merging.
    func testArraysMergeElementWise() throws {
        let o = try parse("""
        a: [0, 1, 2, {foo: "bar"}],
        a: [3, 4],
        a: [5, 6, 7, {bar: "foo"}, 8],
        """)
        XCTAssertEqual(o["a"]?.description, #"[5, 6, 7, {foo: "bar", bar: "foo"}, 8]"#)
    }

    /// The reference's include example: file1 `value:"foo", include "file2.cfg", foo:"foo"`,
    /// file2 `value:"bar", foo:"bar"` gives `{value:"bar", foo:"foo"}`.
    func testIncludeMergesInReadingOrder() throws {
        let o = try ConfigDocument.parse(text: #"value: "foo", include "file2.cfg", foo: "foo","#, file: "dir/file1.cfg",
                                         files: ["dir/file2.cfg": #"value: "bar", foo: "bar""#])
        XCTAssertEqual(o["value"]?.string, "bar")
        XCTAssertEqual(o["foo"]?.string, "foo")
        // Values remember the file they came from.
        XCTAssertEqual(o["value"]?.location, SourceLocation(file: "dir/file2.cfg", line: 1, column: 8))
    }

    func testIncludeIsRelativeToTheIncludingFile() throws {
        let o = try ConfigDocument.parse(text: #"include "sub/a.cfg","#, file: "top/main.cfg",
                                         files: ["top/sub/a.cfg": #"include "b.cfg", x: 1"#, "top/sub/b.cfg": "y: 2"])
        XCTAssertEqual(o["x"]?.integer, 1)
        XCTAssertEqual(o["y"]?.integer, 2)
        XCTAssertEqual(o["y"]?.location.file, "top/sub/b.cfg")
    }

    func testPreprocessorConditionals() throws {
        let o = try parse("""
        #define A 2
        #define B A * 3
        #if B == 6
        x: "six",
        #elif B == 7
        x: "seven",
        #else
        x: "other",
        #endif
        #ifdef A
        y: A,
        #endif
        #ifndef C
        z: true,
        #endif
        #undef A
        #ifdef A
        w: 1,
        #else
        w: 2,
        #endif
        #if 0
          broken syntax here is skipped: {[
          #if 1
          nested: 1,
          #endif
        #elif 1
        v: "elif",
        #endif
        """)
        XCTAssertEqual(o["x"]?.string, "six")
        XCTAssertEqual(o["y"]?.integer, 2)
        XCTAssertEqual(o["z"]?.bool, true)
        XCTAssertEqual(o["w"]?.integer, 2)
        XCTAssertEqual(o["v"]?.string, "elif")
        XCTAssertNil(o["nested"])
    }

    func testHashIncludeSplicesText() throws {
        let o = try ConfigDocument.parse(text: "#define F \"part.cfg\"\n{\n a: 1,\n#include F\n c: 3 }", file: "m.cfg",
                                         files: ["part.cfg": " b: 2,"])
        XCTAssertEqual(o["b"]?.integer, 2)
        XCTAssertEqual(o["c"]?.integer, 3)
    }

    // MARK: errors name file:line:column and what was expected

    func testMissingCommaNamesTheNextToken() throws {
        let e = try XCTUnwrap(error("{\n  a: 1,\n  b: 2\n  epdg: {}\n}"))
        XCTAssertEqual(e.kind, .syntax)
        XCTAssertEqual(e.description, "t.cfg:4:3: expected ',' or '}' after property value, found 'epdg'")
    }

    func testUnclosedBraceNamesWhereItWasOpened() throws {
        let e = try XCTUnwrap(error("a: 1,\nepdg: {\n  b: 2,\n"))
        XCTAssertEqual(e.location, SourceLocation(file: "t.cfg", line: 2, column: 7))
        XCTAssertTrue(e.message.contains("'{' of 'epdg' opened here is never closed"), e.message)
        XCTAssertTrue(e.message.contains("t.cfg:4:1"), e.message)
    }

    func testUnclosedArrayAndStringAndComment() throws {
        XCTAssertEqual(error("a: [1, 2,\n")?.location?.line, 1)
        XCTAssertEqual(error("a: \"abc\n")?.description, "t.cfg:1:4: unterminated string: missing closing '\"' on this line")
        XCTAssertEqual(error("a: 1, /* no end\n\n")?.location, SourceLocation(file: "t.cfg", line: 1, column: 7))
        XCTAssertEqual(error("a: `x ${1+\n")?.location?.column, 7)
    }

    func testUndefinedNameAndBadOperands() throws {
        let e = try XCTUnwrap(error("a: 1,\nb: ims,\n"))
        XCTAssertEqual(e.kind, .undefinedName)
        XCTAssertEqual(e.location, SourceLocation(file: "t.cfg", line: 2, column: 4))
        XCTAssertEqual(error("a: \"x\" * 2")?.kind, .expression)
        XCTAssertEqual(error("a: 1 / 0")?.kind, .expression)
    }

    func testPreprocessorErrors() throws {
        XCTAssertEqual(error("#if 1\na: 1,\n")?.description, "t.cfg:1:1: '#if' is never closed by '#endif' before the end of the file")
        XCTAssertEqual(error("a: 1,\n#endif\n")?.location?.line, 2)
        XCTAssertEqual(error("#pragma once\n")?.kind, .preprocessor)
        XCTAssertEqual(error("#if 1\n#else\n#else\n#endif\n")?.location?.line, 3)
    }

    func testBadIncludeNamesTheIncludeSite() throws {
        let e = try XCTUnwrap(error("a: 1,\n  include \"missing.cfg\",\n"))
        XCTAssertEqual(e.kind, .include)
        XCTAssertEqual(e.location, SourceLocation(file: "t.cfg", line: 2, column: 3))
        XCTAssertTrue(e.message.contains("missing.cfg"))
    }

    func testIncludeCycleIsAnError() throws {
        let e = try XCTUnwrap(error(#"include "t.cfg","#))
        XCTAssertEqual(e.kind, .include)
        XCTAssertTrue(e.message.contains("cycle"), e.message)
    }

    func testErrorsInIncludedFilesNameThatFile() throws {
        let e = try XCTUnwrap(error(#"a: 1, include "inc.cfg","#, files: ["inc.cfg": "x: 1\ny: 2"]))
        XCTAssertEqual(e.location, SourceLocation(file: "inc.cfg", line: 2, column: 1))
    }

    func testSuggestions() {
        XCTAssertEqual(Suggest.closest("esp_duraton", in: ["ike_duration", "esp_duration"]), "esp_duration")
        XCTAssertEqual(Suggest.closest("aes-cbc-129", in: ["aes-cbc-128", "aes-ctr-128"]), "aes-cbc-128")
        XCTAssertNil(Suggest.closest("gtp_addr", in: ["bind_addr", "esp_duration"]))
        XCTAssertEqual(Suggest.levenshtein(Array("kitten".utf8), Array("sitting".utf8)), 3)
    }
}

extension LanguageTests {
    func testDeepNestingIsAnErrorNotACrash() {
        let deep = "a: " + String(repeating: "[", count: 100_000)
        XCTAssertEqual(error(deep)?.kind, .syntax)
        XCTAssertEqual(error("a: " + String(repeating: "-", count: 100_000) + "1")?.kind, .syntax)
        XCTAssertEqual(error("a: " + String(repeating: "(", count: 100_000) + "1")?.kind, .syntax)
    }
}

import XCTest
@testable import Config

/// Config expressions that once trapped the process instead of evaluating or giving a ConfigError.
final class EvaluatorRegressionTests: XCTestCase {
    private func value(_ text: String) throws -> ConfigValue {
        let o = try ConfigDocument.parse(text: "v: " + text, file: "t.cfg", files: [:])
        return try XCTUnwrap(o["v"])
    }

    /// `Int64.min % -1` overflows in Swift; the remainder is 0.
    func testMinRemainderMinusOneIsZero() throws {
        XCTAssertEqual(try value("(-9223372036854775807 - 1) % -1").integer, 0)
    }

    /// `Int64.min / -1` overflows; the result falls back to a floating-point number.
    func testMinDividedByMinusOneIsANumber() throws {
        let v = try value("(-9223372036854775807 - 1) / -1")
        XCTAssertNil(v.integer)
        XCTAssertEqual(v.double ?? 0, 9223372036854775808.0, accuracy: 1)
    }

    func testDivisionByZeroIsAConfigError() {
        XCTAssertThrowsError(try value("1 / 0")) { XCTAssertTrue($0 is ConfigError) }
        XCTAssertThrowsError(try value("1 % 0")) { XCTAssertTrue($0 is ConfigError) }
    }
}

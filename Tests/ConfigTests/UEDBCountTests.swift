import XCTest
@testable import Config

/// ue_db `count`: the one expansion of an entry into SIMs, and its overflow check.
final class UEDBCountTests: XCTestCase {
    private func ueDB(_ entry: String) throws -> [UEDBEntry] {
        let text = #"plmn: "00101", pdn_list: [{ access_point_name: "ims" }], ue_db: ["# + entry + "],"
        return try MMEConfig.decode(ConfigDocument.parse(text: text, file: "cfg/mme.cfg"), path: "cfg/mme.cfg").0.ueDB
    }

    func testIMSIKAndIdentitiesIncrement() throws {
        let e = try XCTUnwrap(ueDB(#"""
            { sim_algo: "milenage", imsi: "001010000000009", K: "000000000000000000000000000000ff",
              opc: "000102030405060708090a0b0c0d0e0f", impi: "001010000000009@ims.example",
              impu: ["001010000000009", "tel:600"], count: 3 }
            """#).first)
        let subs = e.expanded()
        XCTAssertEqual(subs.map { $0.imsi ?? "" }, ["001010000000009", "001010000000010", "001010000000011"])
        XCTAssertEqual(subs.map { $0.k.map { $0.map { String(format: "%02x", $0) }.joined() } ?? "" },
                       ["000000000000000000000000000000ff", "00000000000000000000000000000100", "00000000000000000000000000000101"])
        XCTAssertEqual(subs[2].impi, "001010000000011@ims.example")
        XCTAssertEqual(subs[2].impu.map(\.impu), ["001010000000011", "tel:600"])
        XCTAssertEqual(subs[1].opc, e.opc)
        XCTAssertEqual(subs.map(\.count), [1, 1, 1])
    }

    func testKWrapsAt128Bits() throws {
        let e = try XCTUnwrap(ueDB(#"{ sim_algo: "xor", imsi: "001010000000001", K: "ffffffffffffffffffffffffffffffff", count: 2 }"#).first)
        XCTAssertEqual(e.expanded()[1].k, [UInt8](repeating: 0, count: 16))
        XCTAssertEqual(e.expanded()[1].imsi, "001010000000002")
    }

    func testCountOverflowingTheIMSIIsAConfigError() {
        XCTAssertThrowsError(try ueDB(#"{ sim_algo: "xor", imsi: "999999999999998", K: "000102030405060708090a0b0c0d0e0f", count: 3 }"#)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("cfg/mme.cfg:1:"), text)
            XCTAssertTrue(text.contains("count: 3 SIMs from IMSI 999999999999998 overflow its 15 digits"), text)
        }
    }
}

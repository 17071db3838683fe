import Foundation
import TestSupport
import Testing

@testable import TradingCore

/// JSONTestSuite's parsing cases (Tests/Fixtures/JSONTestSuite), each wrapped as a value inside
/// a positions file and read the way every reader of that file reads it: every `y_` case read,
/// every `n_` case refused with its line and column, nothing crashes. A faster reader must keep
/// this.
@Suite struct JSONTestSuiteTests {
    static let folder = Fixtures.data + "/JSONTestSuite/test_parsing"
    /// What Python's `json` reads, so the operator's old bot may have written it, and we read on
    /// purpose (as Python does): not refused.
    static let readLikePython: Set<String> = [
        "n_number_NaN.json", "n_number_infinity.json", "n_number_minus_infinity.json",
    ]

    static func cases(_ prefix: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasPrefix(prefix) }.sorted()
    }

    /// The case's bytes as the value of a top-level key of a positions file.
    static func wrapped(_ name: String) throws -> [UInt8] {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: folder + "/" + name)))
        return Array(#"{"open_positions": [], "closed_positions": [], "case": "#.utf8) + bytes + Array("}".utf8)
    }

    @Test func everyAcceptedCaseIsRead() throws {
        let names = try Self.cases("y_")
        #expect(names.count == 95)
        var refused: [String] = []
        for name in names {
            do {
                let extra = try PositionsCodec.scan(try Self.wrapped(name)) { _, _, _, _ in }
                if extra["case"] == nil { refused.append("\(name): no value") }
            } catch {
                refused.append("\(name): \(error)")
            }
        }
        #expect(refused.isEmpty, "\(refused)")
    }

    @Test func everyRefusedCaseIsRefusedWithItsLineAndColumn() throws {
        let names = try Self.cases("n_")
        #expect(names.count == 188)
        var read: [String] = []
        var unplaced: [String] = []
        for name in names {
            do {
                _ = try PositionsCodec.scan(try Self.wrapped(name)) { _, _, _, _ in }
                read.append(name)
            } catch let error as JSONSyntaxError {
                if error.line < 1 || error.column < 1 || !"\(error)".contains("line \(error.line), column") {
                    unplaced.append("\(name): \(error)")
                }
            } catch {
                unplaced.append("\(name): not a syntax error: \(error)")
            }
        }
        #expect(Set(read) == Self.readLikePython, "read although invalid: \(Set(read).subtracting(Self.readLikePython))")
        #expect(unplaced.isEmpty, "\(unplaced)")
    }
}

import Foundation
import TestSupport
import Testing

/// Every `tradingbot` and `deployctl` command the RUNBOOK and the README show (in a shell block
/// or inline) names a subcommand and options the built binaries have: the documents cannot drift
/// from the code. What the commands do is drilled by the tests named in the RUNBOOK's sections.
@Suite struct RunbookTests {
    /// The commands of `text`: the lines of its shell blocks and its inline code spans that run
    /// one of our binaries, cut at pipes, `;` and `&&`, with `sudo -u USER` and comments dropped.
    static func commands(in text: String) -> [String] {
        var candidates: [String] = []
        var inBlock = false
        var paragraph = ""
        func spans() {
            // A code span may run across the lines of its paragraph.
            let parts = paragraph.split(separator: "`", omittingEmptySubsequences: false)
            for (i, part) in parts.enumerated() where i % 2 == 1 { candidates.append(String(part)) }
            paragraph = ""
        }
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("```") {
                spans()
                inBlock.toggle()
                continue
            }
            if inBlock {
                candidates.append(String(line))
            } else if line.trimmingCharacters(in: .whitespaces).isEmpty {
                spans()
            } else {
                paragraph += " " + line
            }
        }
        spans()
        var out: [String] = []
        for candidate in candidates {
            var line = candidate
            if let hash = line.range(of: " #") { line = String(line[..<hash.lowerBound]) }
            for piece in line.replacingOccurrences(of: "&&", with: ";").split(whereSeparator: { $0 == "|" || $0 == ";" }
            ) {
                var words = piece.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init)
                if words.first == "sudo" { words.removeFirst() }
                if words.first == "-u", words.count > 1 { words.removeFirst(2) }
                guard let first = words.first,
                    first == "tradingbot" || first == "deployctl"
                        || (first.hasPrefix("/") && (first.hasSuffix("/tradingbot") || first.hasSuffix("/deployctl")))
                else { continue }
                out.append(words.joined(separator: " "))
            }
        }
        return out
    }

    /// Why `command` does not match the binary, or nil when it does.
    static func problem(_ command: String) throws -> String? {
        let words = command.split(separator: " ").map(String.init)
        let binary = words[0].hasSuffix("deployctl") ? "deployctl" : "tradingbot"
        let path = Array(words.dropFirst().prefix { !$0.hasPrefix("-") })
        // The longest run of words that names a subcommand; the rest are its arguments.
        var help: String?
        for k in stride(from: path.count, through: path.isEmpty ? 0 : 1, by: -1) {
            let sub = Array(path.prefix(k))
            let out = try CommandRunner.run(binary, sub + ["--help"])
            let usage = "USAGE: " + ([binary] + sub).joined(separator: " ")
            if out.status == 0,
                out.stdout.split(separator: "\n").contains(where: {
                    $0 == usage || $0.hasPrefix(usage + " ")
                })
            {
                help = out.stdout
                break
            }
        }
        guard let help else { return "no such subcommand" }
        for word in words where word.hasPrefix("--") {
            let flag = String(word.split(separator: "=").first ?? "")
            if !help.contains(flag + " ") && !help.contains(flag + "\n") && !help.contains(flag + ",") {
                return "\(flag) is not an option of it"
            }
        }
        return nil
    }

    @Test func everyCommandInTheRunbookAndReadmeParses() throws {
        var checked = 0
        var problems: [String] = []
        for document in ["RUNBOOK.md", "README.md"] {
            let text = try String(contentsOfFile: Fixtures.repoRoot + "/" + document, encoding: .utf8)
            for command in Set(Self.commands(in: text)).sorted() {
                checked += 1
                if let why = try Self.problem(command) { problems.append("\(document): `\(command)`: \(why)") }
            }
        }
        print("RunbookTests: \(checked) commands checked")
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
        #expect(checked > 40, "the RUNBOOK's commands were found (\(checked))")
    }

    /// The checker itself finds a wrong subcommand and a wrong option.
    @Test func aDriftedCommandIsFound() throws {
        #expect(try Self.problem("deployctl rollbak --home /srv/bot") == "no such subcommand")
        #expect(try Self.problem("tradingbot restore --from-database") == "--from-database is not an option of it")
        #expect(try Self.problem("tradingbot kill-switch on") == nil)
        #expect(try Self.problem("/srv/bot/bin/deployctl watchdog --home /srv/bot --dry-run") == nil)
        #expect(
            Self.commands(in: "run `sudo -u tradingbot deployctl doctor --home /srv/bot | grep FAIL` now")
                == ["deployctl doctor --home /srv/bot"])
    }
}

import Foundation
import TradingCore
import TradingStore

/// Whether a release's own binary reads the home's live config, asked through its `selfcheck`
/// (no network, no trading). Config files refuse unknown keys, so a key that a newer release
/// added and the operator then set makes every older release refuse bot.json: going back to one
/// must first set that key aside, or nothing would trade after the rollback.
///
/// A key is set aside only when a newer build reads the file with it (this deployctl, or the
/// release being left): a key that no build knows is a typo and fails as it always did.
struct ConfigCompat {
    let home: Home
    let config: DeployConfig
    /// Written down in `state/deploy.children` so a killed deployctl's selfcheck is ended.
    var tracking: String?

    enum Answer: Equatable {
        case accepts
        /// The engine's own files (bot.json, asset_universe.json) hold `field`, a key this binary
        /// does not know; `detail` is its own words.
        case unknownKey(file: String, field: String, detail: String)
        /// Any other refusal of the engine's files (a value out of range, a syntax error).
        case refuses(String)
        /// No answer (no binary, a hang, no JSON): not a verdict on the config.
        case noAnswer(String)
    }

    /// Asks `binary` (a slot's tradingbot) whether it reads the home's config. Only what the
    /// engine reads counts: an older selfcheck also refuses a deploy.json key it does not know,
    /// but its engine never reads deploy.json (the guard copy does).
    func ask(binary: String) -> Answer { askNamingChecks(binary: binary).answer }

    /// `ask`, with the names of the checks the selfcheck ran (nil when it gave none): what the
    /// release can do (a release before capital scaling has no `scaling` check).
    func askNamingChecks(binary: String) -> (answer: Answer, checks: [String]?) {
        guard FileManager.default.isExecutableFile(atPath: binary) else { return (.noAnswer("no binary at \(binary)"), nil) }
        let outcome: ProcessRunner.Outcome
        do {
            outcome = try ProcessRunner.run(
                binary, ["selfcheck", "--json", "--home", home.root], timeout: 120, without: config.secretNames,
                tracking: tracking)
        } catch {
            return (.noAnswer("\(error)"), nil)
        }
        let text = outcome.output
        guard let brace = text.firstIndex(of: "{"),
            let checks = (try? JSONValue.parse(Array(text[brace...].utf8)))?.objectValue?["checks"]?.arrayValue,
            let check = checks.compactMap(\.objectValue).first(where: { $0["name"]?.stringValue == "config" })
        else {
            return (.noAnswer(
                outcome.timedOut
                    ? "its selfcheck did not answer within 120 s"
                    : "its selfcheck gave no config check (exit \(outcome.status)): \(ProcessRunner.lastLines(text, 3))"
            ), nil)
        }
        let names = checks.compactMap { $0.objectValue?["name"]?.stringValue }
        if check["ok"] == .bool(true) { return (.accepts, names) }
        return (Self.reading(check["detail"]?.stringValue ?? "", home: home), names)
    }

    /// Reads a config check's detail: `FILE: field "a.b": is not a known key ...`.
    static func reading(_ detail: String, home: Home) -> Answer {
        let engineFiles = [home.botConfig, home.assetUniverse]
        guard let file = engineFiles.first(where: { detail.hasPrefix($0 + ":") }) else {
            // deploy.json, or words we cannot place: the engine itself may still run.
            return detail.hasPrefix(home.deployConfig + ":") ? .accepts : .refuses(detail)
        }
        let marker = ": field \""
        guard let start = detail.range(of: marker), detail.contains("is not a known key"),
            let end = detail[start.upperBound...].firstIndex(of: "\"")
        else { return .refuses(detail) }
        return .unknownKey(file: file, field: String(detail[start.upperBound..<end]), detail: detail)
    }

    /// Whether a build newer than the target reads `file` as it is: this deployctl's own rules,
    /// else the leaving release's binary.
    func newerBuildReads(_ file: String, leavingBinary: String?) -> Bool {
        if file == home.botConfig, (try? ConfigFiles.bot(file)) != nil { return true }
        if file == home.assetUniverse, (try? ConfigFiles.assetUniverse(file)) != nil { return true }
        guard let leavingBinary else { return false }
        if case .accepts = ask(binary: leavingBinary) { return true }
        return false
    }

    /// What `prepare` did: the keys set aside, the copies kept (file, copy) to undo it, and why
    /// the target cannot run (then the caller undoes it).
    struct Preparation {
        var setAside: [String] = []
        var kept: [(file: String, copy: String)] = []
        var refusal: String?
        /// The checks the target's selfcheck ran when it accepted the config (nil: no answer).
        var targetChecks: [String]?

        /// Puts the kept files back (the way back did not happen: the live release keeps the
        /// operator's config as it was). Returns what could not be put back.
        func undo() -> [String] {
            var failed: [String] = []
            for (file, copy) in kept {
                do {
                    try FileIO.copy(copy, to: file)  // keeps the mode of the file it replaces
                    try? FileIO.remove(copy)
                } catch {
                    failed.append("\(file) (its copy is \(copy)): \(error)")
                }
            }
            return failed
        }
    }

    /// Makes the home's config readable by `binary`: each key it does not know, that a newer
    /// build reads, is renamed `_KEY` (a comment to every release) with a note beside it, after
    /// a copy of the file is kept.
    func prepare(binary: String, leavingBinary: String?, release: String, now: Instant) -> Preparation {
        var done = Preparation()
        for _ in 0..<20 {
            let (answer, checks) = askNamingChecks(binary: binary)
            done.targetChecks = checks
            switch answer {
            case .accepts, .noAnswer:
                // No answer is not a refusal: the switch itself proves whether it runs.
                return done
            case .refuses(let detail):
                done.refusal = "it cannot read the live config: \(detail)"
                return done
            case .unknownKey(let file, let field, let detail):
                guard newerBuildReads(file, leavingBinary: leavingBinary) else {
                    done.refusal =
                        "it cannot read the live config, and no newer build reads it either (a typo?): \(detail)"
                    return done
                }
                do {
                    if !done.kept.contains(where: { $0.file == file }) {
                        let copy = "\(file).before-rollback-\(now.fileStamp)"
                        try FileIO.copy(file, to: copy, mode: Self.mode(file))  // a new file: the same mode
                        done.kept.append((file, copy))
                    }
                    try Self.setAside(field, in: file, release: release, at: now)
                } catch {
                    done.refusal = "setting \(field) aside in \(file) failed: \(error)"
                    return done
                }
                done.setAside.append("\((file as NSString).lastPathComponent) \(field)")
            }
        }
        done.refusal = "it still refuses the live config after 20 keys were set aside"
        return done
    }

    /// Renames `field` (a dotted path) to `_LAST` in its section, with `_LAST_note` beside it.
    static func setAside(_ field: String, in file: String, release: String, at now: Instant) throws {
        let root = try ConfigFiles.json(file)
        let path = field.split(separator: ".").map(String.init)
        guard
            let changed = renamed(
                root, path,
                note:
                    "set aside by deployctl at \(now.iso8601): \(release) cannot read it; rename it back to \(path.last ?? "") once a release that reads it is live"
            )
        else { throw ConfigError(file: file, field: field, message: "not found where the release named it") }
        try FileIO.writeAtomically(file, Array((changed.serialized(indent: 2) + "\n").utf8))
    }

    static func renamed(_ value: JSONValue, _ path: [String], note: String) -> JSONValue? {
        changing(value, path) { [JSONField("_" + $0.key, $0.value), JSONField("_" + $0.key + "_note", .string(note))] }
    }

    static func removed(_ value: JSONValue, _ path: [String]) -> JSONValue? { changing(value, path) { _ in [] } }

    /// `value` with the field at `path` (a key per level) replaced by what `change` makes of it.
    static func changing(_ value: JSONValue, _ path: [String], _ change: (JSONField) -> [JSONField]) -> JSONValue? {
        guard var object = value.objectValue, let key = path.first, let inner = object[key] else { return nil }
        if path.count > 1 {
            guard let changed = changing(inner, Array(path.dropFirst()), change) else { return nil }
            object[key] = changed
            return .object(object)
        }
        return .object(JSONObject(object.fields.flatMap { $0.key == key ? change($0) : [$0] }))
    }

    static func mode(_ file: String) -> mode_t {
        var info = stat()
        return stat(file, &info) == 0 ? info.st_mode & 0o777 : 0o644
    }
}

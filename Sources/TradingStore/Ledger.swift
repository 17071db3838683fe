import Foundation
import TradingCore

/// `state/releases.jsonl`: the append-only audit log of every release. One event per line,
/// fsynced before the step it records goes on, so a crash never loses what already happened.
/// A torn line (a writer killed mid-line) is skipped, never fatal: one bad write must not block
/// every later release, `history` and `rollback`.
public class Ledger {
    public let path: String

    public init(path: String) { self.path = path }

    /// Appends one event of `release`.
    public func append(_ release: String, _ event: String, _ fields: [JSONField] = [], at: Instant = WallClock.now)
        throws
    {
        var object = JSONObject([
            JSONField("ts", .string(at.iso8601)), JSONField("release", .string(release)),
            JSONField("event", .string(event)),
        ])
        object.fields.append(contentsOf: fields)
        // 0600: a failed step's detail quotes the last lines of a build log, which is private.
        let appender = try JSONLAppender(path: path, mode: 0o600)
        defer { appender.close() }
        try appender.append(.object(object), sync: true)
    }

    /// The line numbers of lines that could not be read (torn writes), for `history` and `doctor`.
    public func unreadableLines() -> [Int] {
        ((try? JSONLAppender.readLines(path))?.unreadable ?? []).map(\.line)
    }

    /// Every release folded from its events, oldest first.
    public func releases() throws -> [ReleaseRecord] {
        var order: [String] = []
        var records: [String: ReleaseRecord] = [:]
        for line in try JSONLAppender.readLines(path).0 {
            guard let o = line.objectValue, let id = o["release"]?.stringValue, let event = o["event"]?.stringValue
            else {
                continue
            }
            if records[id] == nil {
                order.append(id)
                records[id] = ReleaseRecord(id: id)
            }
            records[id]?.apply(event: event, fields: o)
        }
        return order.compactMap { records[$0] }
    }
}

/// One release as the ledger tells it.
public struct ReleaseRecord: Sendable {
    public var id: String
    public var ref = ""
    public var sha = ""
    public var subject = ""
    public var slot = ""
    public var by = ""
    public var state = "started"
    public var startedAt = ""
    public var updatedAt = ""
    public var previousSlot: String?
    /// The release the previous slot held when this one started.
    public var previousRelease: String?
    public var failedStep: String?
    public var error: String?
    public var steps: [JSONValue] = []
    public var checks: [JSONValue] = []
    /// The decision diff's `decisions` event (verdict, counts, transitions), when it ran.
    public var decisions: JSONObject?

    public init(id: String) { self.id = id }

    mutating func apply(event: String, fields o: JSONObject) {
        updatedAt = o["ts"]?.stringValue ?? updatedAt
        switch event {
        case "started":
            ref = o["ref"]?.stringValue ?? ""
            slot = o["slot"]?.stringValue ?? ""
            by = o["by"]?.stringValue ?? ""
            startedAt = o["ts"]?.stringValue ?? ""
            previousSlot = o["previous_slot"]?.stringValue
            previousRelease = o["previous_release"]?.stringValue
        case "resolved":
            sha = o["sha"]?.stringValue ?? ""
            subject = o["subject"]?.stringValue ?? ""
        case "step":
            steps.append(.object(o))
            if o["ok"] == .bool(false) {
                failedStep = o["name"]?.stringValue
                error = o["detail"]?.stringValue
            }
        case "check": checks.append(.object(o))
        case "decisions":
            var d = o
            for key in ["ts", "release", "event"] { d[key] = nil }
            decisions = d
        case "state":
            // A final verdict stays: a `failed` written after `bad` by an older deployctl does not
            // soften it. Other moves are taken as written (the machine checked them).
            guard let next = o["state"]?.stringValue.flatMap(ReleaseState.init(rawValue:)) else { break }
            if let current = stateValue, current.next.isEmpty { break }
            state = next.rawValue
        default: break
        }
    }

    /// Whether the release was ever marked good (and not later bad).
    public var isGood: Bool { state == "good" }

    public var stateValue: ReleaseState? { ReleaseState(rawValue: state) }

    public var json: JSONValue {
        var o = JSONObject([
            JSONField("id", .string(id)), JSONField("ref", .string(ref)), JSONField("sha", .string(sha)),
            JSONField("subject", .string(subject)), JSONField("slot", .string(slot)), JSONField("by", .string(by)),
            JSONField("state", .string(state)), JSONField("started_at", .string(startedAt)),
            JSONField("updated_at", .string(updatedAt)),
        ])
        o["failed_step"] = failedStep.map { .string($0) } ?? .null
        o["error"] = error.map { .string($0) } ?? .null
        o["steps"] = .array(steps)
        o["checks"] = .array(checks)
        o["decisions"] = decisions.map { .object($0) } ?? .null
        return .object(o)
    }
}

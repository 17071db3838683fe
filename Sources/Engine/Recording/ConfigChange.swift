import TradingCore
import TradingStore

/// What a proposed bot.json changes against the one a recording was made with, and which of
/// those changes a replay of the recording cannot show.
public struct ConfigChange: Sendable, Equatable {
    /// Dotted keys whose value differs (`risk.max_positions`), sorted.
    public var changed: [String]
    /// The changed keys a recording cannot show, each with why.
    public var notCompared: [String]

    public var onlyUncomparable: Bool { !changed.isEmpty && changed.count == notCompared.count }

    /// `recordedSymbols` are the symbols the recording's market holds.
    public init(recorded: JSONValue, proposed: JSONValue, recordedSymbols: Set<String>) {
        var changed: [String] = []
        func walk(_ a: JSONValue?, _ b: JSONValue?, _ path: String) {
            if let ao = a?.objectValue, let bo = b?.objectValue {
                for key in Set(ao.keys).union(bo.keys).sorted() where !key.hasPrefix("_") {
                    walk(ao[key], bo[key], path.isEmpty ? key : path + "." + key)
                }
            } else if let x = a?.doubleValue, let y = b?.doubleValue {
                if x != y { changed.append(path) }
            } else if a != b {
                changed.append(path)
            }
        }
        walk(recorded, proposed, "")
        self.changed = changed
        notCompared = changed.compactMap { key in
            if key == "cycle_seconds" {
                return "cycle_seconds: the recording's cycles came at the recorded pace"
            }
            if key == "exchange" || key.hasPrefix("exchange.") {
                return "\(key): the recording's market and broker answers are those of the recorded exchange settings"
            }
            if key == "symbols" {
                let proposedSymbols = Set(
                    (proposed.objectValue?["symbols"]?.arrayValue ?? []).compactMap(\.stringValue))
                let unseen = proposedSymbols.subtracting(recordedSymbols).sorted()
                guard !unseen.isEmpty else { return nil }
                return "symbols: \(unseen.prefix(10).joined(separator: ", ")) never recorded"
            }
            return nil
        }
    }

    /// The change of `proposed` against the bot.json the segment at or before `from` in `dir`
    /// was recorded with (the oldest when `from` is nil); nil when there is no readable header.
    public static func against(recording dir: String, from: Instant?, proposed: JSONValue) -> ConfigChange? {
        let heads = RecordingSegments.list(dir)
        let entry =
            from.flatMap { f in
                heads.last { RecordingSegments.head($0)?.started.map { $0 <= f } ?? false }
            } ?? heads.first
        guard let entry, let header = JSONLTail.firstLine(entry.path)?.objectValue, let bot = header["bot_json"]
        else { return nil }
        var symbols = Set((bot.objectValue?["symbols"]?.arrayValue ?? []).compactMap(\.stringValue))
        if symbols.isEmpty { symbols = Set(header["universe"]?.objectValue?["symbols"]?.objectValue?.keys ?? []) }
        return ConfigChange(recorded: bot, proposed: proposed, recordedSymbols: symbols)
    }

    public var json: JSONValue {
        ["changed": .array(changed.map { .string($0) }), "not_compared": .array(notCompared.map { .string($0) })]
    }
}

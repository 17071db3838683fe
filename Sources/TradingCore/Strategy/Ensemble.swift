/// Signal weights learned from outcomes (attribution). A signal that pointed the way a
/// winning trade went gains weight; one that pointed the way of a loser loses it.
public struct SignalWeights: Sendable, Equatable {
    public var weights: [String: Double]
    public var tradesLearned: Int
    public var learningRate = 0.05
    public static let bounds = 0.2...3.0

    public init(weights: [String: Double] = [:], tradesLearned: Int = 0) {
        self.weights = weights
        self.tradesLearned = tradesLearned
    }

    public func weight(_ name: String) -> Double { weights[name] ?? 1 }

    /// Learns from one closed trade: the scores its signals had at entry, its side and net P&L.
    public mutating func learn(scores: [String: Double], direction: Direction, netPnl: Double) {
        guard netPnl != 0 else { return }
        let side = direction == .long ? 1.0 : -1.0
        let outcome = netPnl > 0 ? 1.0 : -1.0
        for (name, score) in scores {
            let updated = weight(name) + learningRate * score * side * outcome
            weights[name] = min(Self.bounds.upperBound, max(Self.bounds.lowerBound, updated))
        }
        tradesLearned += 1
    }

    public var json: JSONValue {
        .object(
            JSONObject([
                JSONField(
                    "weights",
                    .object(JSONObject(weights.keys.sorted().map { JSONField($0, .double(weights[$0] ?? 1)) }))),
                JSONField("trades_learned", .int(tradesLearned)),
            ]))
    }

    public static func parse(_ value: JSONValue, file: String) throws(ConfigError) -> SignalWeights {
        let root = try ConfigSection(file: file, path: "", value: value)
        var result = SignalWeights(tradesLearned: try root.int("trades_learned", in: 0...Int(Int32.max)))
        if let weights = try root.section("weights") {
            for field in weights.object.fields {
                result.weights[field.key] = try weights.number(field.key, in: bounds)
            }
        }
        return result
    }
}

/// The ensemble's view of one symbol: every reading, the weighted score and the setup.
public struct EnsembleDecision: Sendable, Equatable {
    public var readings: [(name: String, reading: SignalReading)]
    /// Weighted mean of the available scores, -1...1.
    public var score: Double
    /// Available signals agreeing with the score's sign.
    public var agreeing: Int
    public var available: Int
    /// The signal that contributed most in the score's direction.
    public var dominant: String?

    public static func == (a: EnsembleDecision, b: EnsembleDecision) -> Bool {
        a.score == b.score && a.agreeing == b.agreeing && a.dominant == b.dominant
            && a.readings.map(\.name) == b.readings.map(\.name)
            && a.readings.map(\.reading) == b.readings.map(\.reading)
    }

    public var direction: Direction? { score > 0 ? .long : score < 0 ? .short : nil }

    /// The scores of the available signals, for attribution and the positions record.
    public var scores: [String: Double] {
        var out: [String: Double] = [:]
        for r in readings { if let v = r.reading.value { out[r.name] = v } }
        return out
    }

    /// Combines readings with the learned weights.
    public init(readings: [(name: String, reading: SignalReading)], weights: SignalWeights) {
        self.readings = readings
        var total = 0.0
        var weightSum = 0.0
        var available = 0
        for r in readings {
            guard let v = r.reading.value else { continue }
            available += 1
            total += weights.weight(r.name) * v
            weightSum += weights.weight(r.name)
        }
        let score = weightSum > 0 ? total / weightSum : 0
        self.score = score
        self.available = available
        var agreeing = 0
        var best: (String, Double)?
        for r in readings {
            guard let v = r.reading.value, v != 0, (v > 0) == (score > 0) else { continue }
            agreeing += 1
            let contribution = abs(weights.weight(r.name) * v)
            if best.map({ contribution > $0.1 }) ?? true { best = (r.name, contribution) }
        }
        self.agreeing = agreeing
        self.dominant = best?.0
    }

    /// The setup key the expectancy gate tracks: dominant signal and side.
    public var setup: String? {
        guard let dominant, let direction else { return nil }
        return "\(dominant):\(direction.rawValue)"
    }
}

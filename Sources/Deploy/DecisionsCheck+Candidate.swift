import Foundation
import TradingCore
import TradingStore

extension DecisionsCheck {
    /// Why a candidate cannot be tried, in words that name the fix.
    public struct CandidateRefusal: Error, CustomStringConvertible {
        public var description: String
    }

    /// The candidate `check decisions` names: `slot` (which must hold a built release, never the
    /// live one), or the live binary with the bot.json `configFile`; with neither, the inactive
    /// slot when it holds a built release, else nil (the A/A alone).
    public func candidate(slot: String?, configFile: String?) throws -> Candidate? {
        let slots = Slots(home: home)
        if let configFile {
            guard slot == nil else {
                throw CandidateRefusal(
                    description:
                        "--slot and --config name two candidates: --config tries a bot.json with the live binary")
            }
            let path =
                configFile.hasPrefix("/") ? configFile : FileManager.default.currentDirectoryPath + "/" + configFile
            let proposed: BotConfig
            do {
                proposed = try ConfigFiles.bot(path)
            } catch {
                throw CandidateRefusal(description: "--config: \(error)")
            }
            if let live = try? ConfigFiles.json(home.botConfig), let tried = try? ConfigFiles.json(path), live == tried
            {
                throw CandidateRefusal(
                    description: "--config \(path) is the live bot.json (\(home.botConfig)): nothing to try")
            }
            guard let live = slots.active() else {
                throw CandidateRefusal(
                    description: "no live release yet: --config needs the live binary to replay with")
            }
            return Candidate(
                binary: slots.path(live) + "/" + config.binary, configFile: path,
                config: proposed)
        }
        let name = slot ?? slots.inactive()
        guard Slots.names.contains(name) else {
            throw CandidateRefusal(description: "--slot \(name): a slot is A or B")
        }
        if name == slots.active() {
            throw CandidateRefusal(
                description:
                    "--slot \(name) is the live slot: the candidate is the other slot's build (or --config F with the live binary)"
            )
        }
        guard let release = slots.releaseID(name) else {
            if slot == nil { return nil }
            throw CandidateRefusal(
                description:
                    "slot \(name) holds no built release (\(slots.path(name))/.release is missing): deployctl release builds one"
            )
        }
        let binary = slots.path(name) + "/" + config.binary
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw CandidateRefusal(description: "slot \(name) has no built binary at \(binary)")
        }
        let bot: BotConfig
        do {
            bot = try ConfigFiles.bot(home.botConfig)
        } catch {
            throw CandidateRefusal(description: "\(error)")
        }
        return Candidate(binary: binary, slot: name, release: release, config: bot)
    }
}

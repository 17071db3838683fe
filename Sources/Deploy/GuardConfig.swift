import Foundation
import TradingCore
import TradingStore

/// deploy.json as the guard copy (`HOME/bin/deployctl`, replaced only when a release is marked
/// good) reads it for its own jobs, the watchdog and `boot`. A key a newer release added, set
/// before that release was marked good, must not stop the guard: when a newer deployctl built in
/// a slot reads the file, the keys this copy does not know are left at their defaults, and the
/// guard says so. A key no deployctl knows is a typo and fails as everywhere.
public enum GuardConfig {
    public struct Loaded {
        public var config: DeployConfig
        /// Keys this copy does not know and left out, or nil when it read the file as it is.
        public var note: String?
    }

    public static func load(home: Home) throws(ConfigError) -> Loaded {
        let path = home.deployConfig
        do {
            return Loaded(config: try ConfigFiles.deploy(path), note: nil)
        } catch {
            guard error.message.contains("is not a known key"), let reader = newerReader(home: home) else {
                throw error
            }
            var value = try ConfigFiles.json(path)
            var ignored: [String] = []
            var last = error
            for _ in 0..<20 {
                guard last.message.contains("is not a known key"),
                    let without = ConfigCompat.removed(value, last.field.split(separator: ".").map(String.init))
                else { throw last }
                ignored.append(last.field)
                value = without
                do {
                    let config = try DeployConfig.parse(value, file: path)
                    return Loaded(
                        config: config,
                        note:
                            "\(path): \(ignored.joined(separator: ", ")) unknown to this guard copy (\(GuardCopy.path(home))) but read by \(reader): left at the default until a release marked good replaces the guard copy"
                    )
                } catch {
                    last = error
                }
            }
            throw last
        }
    }

    /// A deployctl built in a slot, other than this one, that reads the home's deploy.json.
    static func newerReader(home: Home) -> String? {
        let me = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? ""
        let binary =
            (try? ConfigFiles.json(home.deployConfig))?.objectValue?["binary"]?.stringValue
            ?? DeployConfig().binary
        for slot in Slots.names {
            let candidate = GuardCopy.slotDeployctl(home: home, slot: slot, binary: binary)
            guard FileManager.default.isExecutableFile(atPath: candidate), candidate != me,
                let outcome = try? ProcessRunner.run(
                    candidate, ["status", "--home", home.root, "--json"], timeout: 60,
                    without: DeployConfig().secretNames),
                outcome.status != 2, !outcome.timedOut
            else { continue }
            return candidate
        }
        return nil
    }
}

import Foundation
import TradingStore

extension ReleasePipeline {
    /// The build step: the slot's checkout mirrored into the build workspace (only what changed
    /// is written), `build.command` run there, its products copied into the slot and checked.
    /// The live slot is never touched: the workspace and the inactive slot are.
    func build(_ id: String, workspace: BuildWorkspace, slotPath: String) throws -> ((), String) {
        try FileIO.makePrivateDirectory(home.deployLogsDir)
        let log = home.deployLogsDir + "/\(id).log"
        let mirrored = try workspace.mirror(from: slotPath)
        let every = progress.workingEvery
        let progress = self.progress
        let tick = every.map { every in
            ProcessRunner.Tick(every: every) { seconds in
                progress.working("build", seconds: seconds, ProcessRunner.lastLine(of: log))
            }
        }
        let outcome = try ProcessRunner.shell(
            config.build.command, in: workspace.path,
            environment: ["TRADINGBOT_HOME": home.root],
            timeout: Double(config.build.timeoutSeconds), log: log, without: config.secretNames,
            tracking: DeployLock.childrenFile(home), tick: tick, stableEnvironment: workspace.buildMark)
        if outcome.timedOut {
            throw StepFailure(step: "build", detail: "timed out after \(config.build.timeoutSeconds) s; log \(log)")
        }
        guard outcome.status == 0 else {
            throw StepFailure(
                step: "build", detail: "exit \(outcome.status); log \(log); last lines:\n\(outcome.output)")
        }
        let products = try workspace.install(binary: config.binary, into: slotPath)
        let changed =
            mirrored.fresh
            ? "a new workspace: a full build, once"
            : "\(mirrored.written) files changed, \(mirrored.removed) removed since the last release built there"
        let copied = products.map { "\($0.path) (\(($0.bytes + 500_000) / 1_000_000) MB)" }.joined(separator: ", ")
        return (
            (),
            "built in \(String(format: "%.1f", outcome.seconds)) s in \(workspace.path) (\(changed)); copied and checked: \(copied); log \(log)"
        )
    }
}

import ArgumentParser
import TradingCore

#if canImport(Glibc)
    import Glibc
#endif

/// The exit codes of the CLI contract (docs/cli.md).
public enum ExitStatus {
    /// A check or step failed; nothing changed, or it was rolled back.
    public static let failed: Int32 = 1
    /// Usage or configuration error.
    public static let usage: Int32 = 2
    /// Another release holds the lock.
    public static let locked: Int32 = 3
}

/// A command that ends with a message and a documented exit code.
public struct CommandFailure: Error, CustomStringConvertible {
    public var code: Int32
    public var message: String

    public init(code: Int32, _ message: String) {
        self.code = code
        self.message = message
    }

    public static func usage(_ message: String) -> CommandFailure { CommandFailure(code: ExitStatus.usage, message) }
    public static func failed(_ message: String) -> CommandFailure { CommandFailure(code: ExitStatus.failed, message) }

    public var description: String { message }
}

/// Runs a root command with the contract's exit codes: argument errors exit 2, not 64.
public func runMain<Root: ParsableCommand>(_ root: Root.Type) -> Never {
    do {
        var command = try Root.parseAsRoot()
        try command.run()
        exit(0)
    } catch let failure as CommandFailure {
        printError(failure.message)
        exit(failure.code)
    } catch let config as ConfigError {
        printError(config.description)
        exit(ExitStatus.usage)
    } catch {
        let code = Root.exitCode(for: error)
        let message = Root.fullMessage(for: error)
        if code == .success {
            print(message)
            exit(0)
        }
        if code == .validationFailure {
            printError(message)
            exit(ExitStatus.usage)
        }
        if let exitCode = error as? ExitCode { exit(exitCode.rawValue) }
        printError(message)
        exit(ExitStatus.failed)
    }
}

/// Writes a line to standard error.
public func printError(_ message: String) {
    let text = message.hasPrefix("Error: ") ? String(message.dropFirst(7)) : message
    var line = Array("error: \(text)\n".utf8)
    _ = line.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
}

/// Prints a JSON value as one object on standard output.
public func printJSON(_ value: JSONValue) {
    print(value.serialized(indent: 2))
}

/// Parses `--now` style instants for commands.
public func parseInstant(_ text: String, option: String) throws -> Instant {
    switch TimestampParser.parse(text) {
    case .success(let instant): return instant
    case .failure(let failure): throw CommandFailure.usage("\(option): \(failure.message)")
    }
}

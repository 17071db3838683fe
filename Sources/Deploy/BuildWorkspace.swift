import Foundation
import TradingStore

#if canImport(Glibc)
    import Glibc
#endif

/// The one place a release is built, for both slots. A build folder holds absolute paths, so it
/// stays incremental only where it was made: a slot's own folder made the first release into the
/// other slot a build from scratch (minutes, during a hotfix). Here every release's build runs at
/// one fixed path, on a copy of the slot's checkout, and only its products go into the slot.
/// Used only under the deploy lock.
public struct BuildWorkspace: Sendable {
    public let home: Home
    public var path: String { home.buildWorkspace }

    public init(home: Home) { self.home = home }

    /// The run mark of every build in this workspace: the same each time, because SwiftPM plans a
    /// build again (about 9 s) whenever its environment changed, and a fresh mark per release
    /// (or the slot's name) made every release pay it. It still tells a leftover build of this
    /// home from anything else. No spaces: `deploy.children` is split on them.
    var buildMark: String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in path.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return "build-" + String(hash, radix: 16)
    }

    /// What a mirror changed in the workspace.
    struct Mirrored: Equatable {
        var written = 0
        var removed = 0
        /// The workspace was new (or emptied): the build starts from scratch (once).
        var fresh = false
    }

    /// Top-level names of a slot that are not source: its git data, its release id and its
    /// build folders. The workspace keeps its own build folders.
    static func isSourceName(_ name: String) -> Bool {
        name != ".git" && name != ".release" && !ReleasePipeline.isBuildFolder(name)
    }

    /// The dependency versions the last build resolved. Kept when the commit has none (the
    /// commit's own replaces it): a build of an unchanged package then asks no package server
    /// anything (over the network, a fetch of every dependency), and both slots build on the same
    /// versions. SwiftPM resolves again itself when Package.swift's requirements change.
    static let resolvedPins = "Package.resolved"

    /// Makes the workspace's files the slot's checkout. A file is written only when its bytes,
    /// its kind or its mode differ, so the build tool sees what the commit changed and nothing
    /// else; what the slot lacks is removed (build folders and resolved versions aside).
    func mirror(from slotPath: String) throws -> Mirrored {
        var done = Mirrored()
        done.fresh = (try? Self.names(in: path).isEmpty) ?? true
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        try sync(from: slotPath, to: path, top: true, &done)
        return done
    }

    private func sync(from source: String, to target: String, top: Bool, _ done: inout Mirrored) throws {
        let names = Set(try Self.names(in: source).filter { !top || Self.isSourceName($0) })
        for name in try Self.names(in: target) where !names.contains(name) {
            if top && (!Self.isSourceName(name) || name == Self.resolvedPins) { continue }
            try Self.remove(target + "/" + name)
            done.removed += 1
        }
        for name in names.sorted() {
            let from = source + "/" + name
            let to = target + "/" + name
            let kind = Self.kind(from)
            switch kind {
            case .directory:
                if Self.kind(to) != .directory {
                    try Self.remove(to)
                    try FileManager.default.createDirectory(atPath: to, withIntermediateDirectories: false)
                }
                try sync(from: from, to: to, top: false, &done)
            case .symlink:
                let link = try FileManager.default.destinationOfSymbolicLink(atPath: from)
                if Self.kind(to) != .symlink || (try? FileManager.default.destinationOfSymbolicLink(atPath: to)) != link
                {
                    try Self.remove(to)
                    try FileManager.default.createSymbolicLink(atPath: to, withDestinationPath: link)
                    done.written += 1
                }
            case .file(let mode):
                if try !Self.sameBytes(from, to) {
                    try Self.remove(to)
                    try FileIO.copy(from, to: to, mode: mode)
                    done.written += 1
                } else if case .file(let had) = Self.kind(to), had != mode {
                    chmod(to, mode)
                    done.written += 1
                }
            case .other, .missing: continue
            }
        }
    }

    /// The files a release runs from its slot: the binary, and the deployctl the build made
    /// beside it (the guard copy is installed from there).
    func products(binary: String) -> [String] {
        let nearby = GuardCopy.deployctlBeside(binary)
        guard nearby != binary, case .file = Self.kind(path + "/" + nearby, follow: true) else { return [binary] }
        return [binary, nearby]
    }

    /// Puts the products into the slot: its build folders (a former build's intermediates,
    /// hundreds of MB) are removed first, then each product is copied (temp file, fsync, rename,
    /// its mode), then checked against the workspace's. A build killed on the way leaves a slot
    /// with no release id and no half-written product.
    /// - Returns: the products and their sizes.
    func install(binary: String, into slotPath: String) throws -> [(path: String, bytes: Int)] {
        let products = products(binary: binary)
        guard case .file = Self.kind(path + "/" + binary, follow: true) else {
            throw StoreError(
                path: path + "/" + binary,
                message:
                    "the build made no such file; check deploy.json's \"binary\" against what build.command produces")
        }
        for name in try Self.names(in: slotPath) where ReleasePipeline.isBuildFolder(name) {
            try Self.remove(slotPath + "/" + name)
        }
        var installed: [(path: String, bytes: Int)] = []
        for product in products {
            let from = path + "/" + product
            let to = slotPath + "/" + product
            guard case .file(let mode) = Self.kind(from, follow: true) else { continue }
            try placeFolders(of: product, in: slotPath)
            try Self.remove(to)
            try FileIO.copy(from, to: to, mode: mode)
            chmod(to, mode)
            installed.append((product, Self.size(to)))
        }
        try verify(products, in: slotPath)
        return installed
    }

    /// Makes the folders above a product in the slot as the build made them in the workspace:
    /// a relative link inside the build folder (SwiftPM's `.build/release ->
    /// x86_64-unknown-linux-gnu/release`) is made again, so a slot looks like a build folder with
    /// its intermediates removed, and an older deployctl that builds in the slot finds what
    /// its build tool expects.
    private func placeFolders(of product: String, in slotPath: String) throws {
        var above = ""
        for part in (product as NSString).deletingLastPathComponent.split(separator: "/") {
            let relative = above.isEmpty ? String(part) : above + "/" + part
            let target = slotPath + "/" + relative
            let built = path + "/" + relative
            if Self.kind(built) == .symlink,
                let link = try? FileManager.default.destinationOfSymbolicLink(atPath: built),
                !link.hasPrefix("/"), !link.split(separator: "/").contains("..")
            {
                try FileManager.default.createDirectory(
                    atPath: slotPath + "/" + (above.isEmpty ? link : above + "/" + link),
                    withIntermediateDirectories: true)
                if Self.kind(target) != .symlink
                    || (try? FileManager.default.destinationOfSymbolicLink(atPath: target)) != link
                {
                    try Self.remove(target)
                    try FileManager.default.createSymbolicLink(atPath: target, withDestinationPath: link)
                }
            } else if Self.kind(target, follow: true) != .directory {
                try Self.remove(target)
                try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: false)
            }
            above = relative
        }
    }

    /// Each product in the slot is byte for byte what the build produced.
    func verify(_ products: [String], in slotPath: String) throws {
        for product in products where try !Self.sameBytes(path + "/" + product, slotPath + "/" + product) {
            throw StoreError(
                path: slotPath + "/" + product,
                message: "differs from the build's \(path)/\(product); the release stops before its flip")
        }
    }

    /// Bytes in the workspace (its build folder mostly), for doctor and the docs.
    static func diskUse(_ directory: String) -> Int64 {
        guard let walker = FileManager.default.enumerator(atPath: directory) else { return 0 }
        var total: Int64 = 0
        while let name = walker.nextObject() as? String {
            var info = stat()
            if lstat(directory + "/" + name, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG {
                total += Int64(info.st_blocks) * 512
            }
        }
        return total
    }

    enum Kind: Equatable {
        case missing, directory, symlink, other
        case file(mode_t)
    }

    static func kind(_ path: String, follow: Bool = false) -> Kind {
        var info = stat()
        guard (follow ? stat(path, &info) : lstat(path, &info)) == 0 else { return .missing }
        switch info.st_mode & S_IFMT {
        case S_IFDIR: return .directory
        case S_IFLNK: return .symlink
        case S_IFREG: return .file(info.st_mode & 0o7777)
        default: return .other
        }
    }

    static func size(_ path: String) -> Int {
        var info = stat()
        return stat(path, &info) == 0 ? Int(info.st_size) : 0
    }

    static func names(in directory: String) throws -> [String] {
        guard case .directory = kind(directory) else { return [] }
        return try FileManager.default.contentsOfDirectory(atPath: directory)
    }

    static func remove(_ path: String) throws {
        guard kind(path) != .missing else { return }
        try FileManager.default.removeItem(atPath: path)
    }

    /// Both are regular files (after symlinks) with the same bytes.
    static func sameBytes(_ a: String, _ b: String) throws -> Bool {
        guard case .file = kind(a, follow: true), case .file = kind(b, follow: true), size(a) == size(b) else {
            return false
        }
        let one = open(a, O_RDONLY | O_CLOEXEC)
        let two = open(b, O_RDONLY | O_CLOEXEC)
        defer {
            if one >= 0 { close(one) }
            if two >= 0 { close(two) }
        }
        guard one >= 0, two >= 0 else { return false }
        var left = [UInt8](repeating: 0, count: 1 << 20)
        var right = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = try readFully(one, &left, path: a)
            let m = try readFully(two, &right, path: b)
            if n != m || left[0..<n] != right[0..<m] { return false }
            if n == 0 { return true }
        }
    }

    private static func readFully(_ fd: Int32, _ buffer: inout [UInt8], path: String) throws -> Int {
        var total = 0
        while total < buffer.count {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress! + total, $0.count - total) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else {
                throw StoreError(path: path, message: "cannot read: \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            total += n
        }
        return total
    }
}

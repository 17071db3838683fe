import Foundation
import TestSupport
import Testing

@testable import Deploy
@testable import TradingStore

/// The build workspace on its own: what a mirror writes (only what changed, so the build tool's
/// change tracking sees the commit and nothing else), and how products reach a slot.
@Suite struct BuildWorkspaceTests {
    struct Scene {
        let home: Home
        let slot: String
        var workspace: BuildWorkspace { BuildWorkspace(home: home) }

        init() throws {
            home = Home(root: try Fixtures.temporaryDirectory("workspace"))
            slot = home.slot("A")
            try FileManager.default.createDirectory(atPath: slot + "/Sources/Core", withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: slot + "/.git/objects", withIntermediateDirectories: true)
            try Fixtures.write("let a = 1\n", to: slot + "/Sources/Core/A.swift")
            try Fixtures.write("let b = 2\n", to: slot + "/Sources/Core/B.swift")
            try Fixtures.write("#!/bin/sh\necho hi\n", to: slot + "/build.sh")
            chmod(slot + "/build.sh", 0o755)
            try Fixtures.write("ref: refs/heads/main\n", to: slot + "/.git/HEAD")
            try Fixtures.write("r1\n", to: slot + "/.release")
            try FileManager.default.createSymbolicLink(
                atPath: slot + "/link", withDestinationPath: "Sources/Core/A.swift")
        }

        func identity(_ relative: String) -> (ino_t, Int) {
            var info = stat()
            stat(workspace.path + "/" + relative, &info)
            return (info.st_ino, info.st_mtim.tv_nsec + info.st_mtim.tv_sec * 1_000_000_000)
        }
    }

    @Test func aMirrorWritesOnlyWhatChangedAndKeepsTheBuildFolder() throws {
        let scene = try Scene()
        let first = try scene.workspace.mirror(from: scene.slot)
        #expect(first.fresh, "nothing was ever built there")
        #expect(first.written == 4 && first.removed == 0)
        let ws = scene.workspace.path
        #expect(try String(contentsOfFile: ws + "/Sources/Core/A.swift", encoding: .utf8) == "let a = 1\n")
        #expect(!FileIO.exists(ws + "/.git") && !FileIO.exists(ws + "/.release"), "no git data, no release id")
        #expect(BuildWorkspace.kind(ws + "/build.sh") == .file(0o755))
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: ws + "/link") == "Sources/Core/A.swift")

        // A build leaves its folder and a resolved file; then the commit changes one file,
        // removes another, adds one and turns a script's executable bit off.
        try FileManager.default.createDirectory(atPath: ws + "/.build/release", withIntermediateDirectories: true)
        try Fixtures.write("object", to: ws + "/.build/release/A.o")
        try Fixtures.write("{}", to: ws + "/Package.resolved")
        let untouched = scene.identity("Sources/Core/A.swift")
        usleep(20_000)
        try Fixtures.write("let b = 3\n", to: scene.slot + "/Sources/Core/B.swift")
        try FileManager.default.removeItem(atPath: scene.slot + "/link")
        try FileManager.default.createDirectory(atPath: scene.slot + "/Sources/New", withIntermediateDirectories: true)
        try Fixtures.write("let c = 4\n", to: scene.slot + "/Sources/New/C.swift")
        chmod(scene.slot + "/build.sh", 0o644)

        let second = try scene.workspace.mirror(from: scene.slot)
        #expect(!second.fresh)
        #expect(second.written == 3, "B.swift, C.swift and build.sh's mode")
        #expect(second.removed == 1, "the link")
        #expect(FileIO.exists(ws + "/Package.resolved"), "the versions resolved last stay: nothing to resolve again")
        let after = scene.identity("Sources/Core/A.swift")
        #expect(after.0 == untouched.0 && after.1 == untouched.1, "an unchanged file keeps its inode and its mtime")
        #expect(try String(contentsOfFile: ws + "/Sources/Core/B.swift", encoding: .utf8) == "let b = 3\n")
        #expect(FileIO.exists(ws + "/Sources/New/C.swift") && !FileIO.exists(ws + "/link"))
        #expect(BuildWorkspace.kind(ws + "/build.sh") == .file(0o644))
        #expect(FileIO.exists(ws + "/.build/release/A.o"), "the build folder stays: the next build is incremental")

        // Nothing changed: nothing is written.
        let third = try scene.workspace.mirror(from: scene.slot)
        #expect(third.written == 0 && third.removed == 0)
        // A commit that pins its own versions replaces them.
        try Fixtures.write(#"{"pins": []}"#, to: scene.slot + "/Package.resolved")
        #expect(try scene.workspace.mirror(from: scene.slot).written == 1)
        #expect(try String(contentsOfFile: ws + "/Package.resolved", encoding: .utf8) == #"{"pins": []}"#)
    }

    @Test func productsReplaceTheSlotsOldBuildFolderAndAreCheckedByteForByte() throws {
        let scene = try Scene()
        _ = try scene.workspace.mirror(from: scene.slot)
        let ws = scene.workspace.path
        // What a build made: the binary and deployctl beside it, with intermediates around them.
        try FileManager.default.createDirectory(
            atPath: ws + "/.build/x86_64-unknown-linux-gnu/release/Core.build", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(
            atPath: ws + "/.build/release", withDestinationPath: "x86_64-unknown-linux-gnu/release")
        try Fixtures.write("ELF tradingbot", to: ws + "/.build/release/tradingbot")
        try Fixtures.write("ELF deployctl", to: ws + "/.build/release/deployctl")
        try Fixtures.write("object", to: ws + "/.build/release/Core.build/A.o")
        chmod(ws + "/.build/release/tradingbot", 0o755)
        chmod(ws + "/.build/release/deployctl", 0o750)
        // The slot's own build folders from before (hundreds of MB in a real one).
        try FileManager.default.createDirectory(
            atPath: scene.slot + "/.build/x86_64-unknown-linux-gnu/release/Core.build",
            withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(
            atPath: scene.slot + "/.build/release", withDestinationPath: "x86_64-unknown-linux-gnu/release")
        try Fixtures.write("old", to: scene.slot + "/.build/release/tradingbot")
        try Fixtures.write("old object", to: scene.slot + "/.build/release/Core.build/A.o")
        try FileManager.default.createDirectory(atPath: scene.slot + "/.build-debug", withIntermediateDirectories: true)

        let products = try scene.workspace.install(binary: ".build/release/tradingbot", into: scene.slot)
        #expect(products.map(\.path) == [".build/release/tradingbot", ".build/release/deployctl"])
        // The folders above the products as the build tool made them (an older deployctl that
        // builds in the slot finds its own layout).
        #expect(
            try FileManager.default.destinationOfSymbolicLink(atPath: scene.slot + "/.build/release")
                == "x86_64-unknown-linux-gnu/release")
        #expect(BuildWorkspace.kind(scene.slot + "/.build/release/tradingbot") == .file(0o755))
        #expect(BuildWorkspace.kind(scene.slot + "/.build/release/deployctl") == .file(0o750))
        #expect(
            try String(contentsOfFile: scene.slot + "/.build/release/tradingbot", encoding: .utf8) == "ELF tradingbot")
        #expect(!FileIO.exists(scene.slot + "/.build-debug"), "the old intermediates are gone")
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: scene.slot + "/.build/x86_64-unknown-linux-gnu/release")
                .sorted() == ["deployctl", "tradingbot"])
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: scene.slot + "/.build").sorted() == [
                "release", "x86_64-unknown-linux-gnu",
            ])
        #expect(FileIO.exists(scene.slot + "/Sources/Core/A.swift"), "the checkout is the slot's own")
        #expect(FileIO.exists(ws + "/.build/release/Core.build/A.o"), "the workspace keeps its build")

        // A product that changed after it was copied is caught before any flip.
        try scene.workspace.verify([".build/release/tradingbot"], in: scene.slot)
        try Fixtures.write("ELF tradingboT", to: scene.slot + "/.build/release/tradingbot")
        #expect(throws: StoreError.self) { try scene.workspace.verify([".build/release/tradingbot"], in: scene.slot) }
    }

    @Test func aBuildThatMadeNoBinarySaysWhichKeyToCheck() throws {
        let scene = try Scene()
        _ = try scene.workspace.mirror(from: scene.slot)
        try FileManager.default.createDirectory(atPath: scene.slot + "/.build", withIntermediateDirectories: true)
        let error = #expect(throws: StoreError.self) {
            try scene.workspace.install(binary: "bin/tradingbot", into: scene.slot)
        }
        #expect("\(error!)".contains("\"binary\"") && "\(error!)".contains("build.command"))
        #expect(FileIO.exists(scene.slot + "/.build"), "nothing in the slot changed")
        #expect(scene.workspace.products(binary: "bin/tradingbot") == ["bin/tradingbot"])
    }

    @Test func theLastLineOfALogNamesTheBuildsCurrentStep() throws {
        let log = try Fixtures.temporaryDirectory("tick") + "/build.log"
        try Fixtures.write(
            String(repeating: "x", count: 5000) + "\n[12/877] Compiling TradingCore Signals.swift\n\n", to: log)
        #expect(ProcessRunner.lastLine(of: log) == "[12/877] Compiling TradingCore Signals.swift")
        #expect(ProcessRunner.lastLine(of: log + ".missing") == "")
    }
}

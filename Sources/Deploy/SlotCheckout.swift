import Foundation
import GitKit
import TradingCore
import TradingStore

#if canImport(Glibc)
    import Glibc
#endif

/// The git checkout of a slot. A slot that is not a whole repository (a clone killed midway)
/// is replaced: the clone goes into a temporary folder that is renamed into place, so the slot
/// is either the old checkout or a complete new one. Its build folder is kept, so the next
/// build stays incremental.
struct SlotCheckout {
    let home: Home
    let config: DeployConfig

    func open(_ slot: String) throws -> GitRepository {
        let path = home.slot(slot)
        let credentials = config.gitCredentials(home: home)
        if FileIO.exists(path + "/.git"), let repo = try? GitRepository.open(path) {
            try repo.setRemoteURL(config.repo)
            try repo.fetch(credentials: credentials)
            return repo
        }
        let temp = home.slotsDir + "/.clone-\(slot)"
        try? FileManager.default.removeItem(atPath: temp)
        do {
            _ = try GitRepository.clone(url: config.repo, into: temp, credentials: credentials)
        } catch {
            try? FileManager.default.removeItem(atPath: temp)
            throw error
        }
        let folders = (try? FileManager.default.contentsOfDirectory(atPath: path))?.filter(
            ReleasePipeline.isBuildFolder)
        for folder in folders ?? [] {
            rename(path + "/" + folder, temp + "/" + folder)
        }
        try? FileManager.default.removeItem(atPath: path)
        guard rename(temp, path) == 0 else {
            throw StoreError(path: path, message: "cannot move the new clone into place: \(FileIO.errnoText())")
        }
        try FileIO.syncDirectory(of: path)
        return try GitRepository.open(path)
    }
}

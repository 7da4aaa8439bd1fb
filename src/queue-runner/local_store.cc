#include "queue-runner/local_store.hh"

#include "nix/machine_connection.hh"
#include "util/logging.hh"

#include <cstdlib>

namespace hydra::qr {

namespace {

/// Nix's database of the store nix-store would use, if it is this machine's own: NIX_REMOTE
/// naming another store (a chroot store, ssh://...) leaves only nix-store to ask.
std::unique_ptr<nix::NixStoreDb> openStoreDb()
{
    const char* remote = std::getenv("NIX_REMOTE"); // NOLINT(concurrency-mt-unsafe): read at start-up
    std::string r = remote ? remote : "";
    if (!r.empty() && r != "daemon" && r != "local" && r != "auto") return nullptr;
    try {
        const char* storeDir = std::getenv("NIX_STORE_DIR"); // NOLINT(concurrency-mt-unsafe)
        return std::make_unique<nix::NixStoreDb>(nix::NixStoreDb::defaultFile(),
                                                 storeDir && *storeDir ? storeDir : "/nix/store");
    } catch (const std::exception& e) {
        log::info("validity of store paths asked through nix-store: {}", e.what());
        return nullptr;
    }
}

} // namespace

LocalStore::LocalStore(nix::LocalStoreSessions& sessions) : sessions_(sessions), db_(openStoreDb()) {}

std::set<std::string> LocalStore::queryValid(const std::set<std::string>& paths)
{
    if (db_) {
        try {
            return db_->validPaths(paths);
        } catch (const std::exception& e) {
            log::warn("asking Nix's database failed, asking nix-store instead: {}", e.what());
        }
    }
    return queryValidBySession(paths);
}

std::set<std::string> LocalStore::queryValidBySession(const std::set<std::string>& paths)
{
    // One retry on a fresh session: the lent one may have died with its nix-store.
    for (int attempt = 1;; ++attempt) {
        try {
            auto conn = sessions_.take();
            auto valid = conn.client().queryValidPaths(paths);
            sessions_.giveBack(std::move(conn));
            return valid;
        } catch (const std::exception&) {
            if (attempt == 2) throw;
        }
    }
}

} // namespace hydra::qr

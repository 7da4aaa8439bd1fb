#pragma once
// LocalStore: the queue runner's validity queries about its own store.

#include "nix/closure_copy.hh"
#include "nix/store_db.hh"

#include <memory>
#include <set>
#include <string>

namespace hydra::qr {

/// Answers validity queries about the local store from Nix's own database when the runner can
/// read it (a page of 1,000 queued builds is one query of microseconds per path, not a round trip
/// through nix-store), else with sessions borrowed from `sessions` and given back after each
/// query, so that no nix-store lives longer than the pool lets an idle or old session live (a
/// live one holds Nix's store lock). Thread-safe if `sessions` is.
class LocalStore {
public:
    explicit LocalStore(nix::LocalStoreSessions& sessions);

    /// The subset of `paths` that is valid; throws hydra::Error if the store cannot be asked.
    std::set<std::string> queryValid(const std::set<std::string>& paths);

private:
    std::set<std::string> queryValidBySession(const std::set<std::string>& paths);

    nix::LocalStoreSessions& sessions_;
    std::unique_ptr<nix::NixStoreDb> db_; ///< null: not readable, or a store elsewhere (NIX_REMOTE)
};

} // namespace hydra::qr

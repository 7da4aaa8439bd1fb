#pragma once
// LocalStore: the queue runner's validity queries about its own store, over pooled sessions.

#include "nix/closure_copy.hh"

#include <set>
#include <string>

namespace hydra::qr {

/// Answers validity queries about the local store with sessions borrowed from `sessions` and
/// given back after each query, so that no nix-store lives longer than the pool lets an idle
/// or old session live (a live one holds Nix's store lock). Thread-safe if `sessions` is.
class LocalStore {
public:
    explicit LocalStore(nix::LocalStoreSessions& sessions) : sessions_(sessions) {}

    /// The subset of `paths` that is valid; throws hydra::Error if the store cannot be asked.
    std::set<std::string> queryValid(const std::set<std::string>& paths);

private:
    nix::LocalStoreSessions& sessions_;
};

} // namespace hydra::qr

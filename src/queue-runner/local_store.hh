#pragma once
// LocalStore: one long-lived serve session with the queue runner's own store, for queries.

#include "nix/machine_connection.hh"
#include "util/sync.hh"

#include <optional>
#include <set>
#include <string>

namespace hydra::qr {

/// Answers validity queries about the local store over one `nix-store --serve` session,
/// started on first use and restarted after a failure. Thread-safe (one query at a time).
class LocalStore {
public:
    explicit LocalStore(nix::ConnectionOptions opts) : opts_(std::move(opts)) {}

    /// The subset of `paths` that is valid; throws hydra::Error if the store cannot be asked.
    std::set<std::string> queryValid(const std::set<std::string>& paths);

private:
    nix::ConnectionOptions opts_;
    Sync<std::optional<nix::MachineConnection>> conn_;
};

} // namespace hydra::qr

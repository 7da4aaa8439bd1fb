#pragma once
// LocalSubstituter: fetches store paths into the queue runner's own store from the substituters
// configured for the local Nix (use-substitutes), over a `nix-store --serve --write` session of
// its own, so a long download never holds up the validity queries of the queue monitor.

#include "nix/machine_connection.hh"

#include <chrono>
#include <optional>
#include <set>
#include <stop_token>
#include <string>

namespace hydra::qr {

/// How the substituter reaches the local store and how long it may wait.
struct SubstituterOptions {
    /// How to start the local `nix-store --serve --write` (it inherits our environment, hence
    /// NIX_CONFIG's `substituters`).
    nix::ConnectionOptions connection;
    /// The longest one batch of substitutions may take: the session sends nothing until all
    /// downloads are done, so this bounds the whole batch, not an idle gap.
    std::chrono::milliseconds timeout = std::chrono::minutes(30);
};

/// One session with the local store, started on first use and restarted after an error.
/// Used by one thread at a time.
class LocalSubstituter {
public:
    explicit LocalSubstituter(SubstituterOptions opts) : opts_(std::move(opts)) {}

    /// The subset of `paths` that is valid now; throws hydra::Error if the store cannot be asked.
    std::set<std::string> valid(const std::set<std::string>& paths);

    /// Lets Nix substitute what it can of `paths` (a path that cannot be fetched is no error)
    /// and returns the subset valid afterwards. Throws TimeoutError after `timeout`, and
    /// hydra::Error when `stop` is requested meanwhile (the session's nix-store is killed).
    std::set<std::string> substitute(const std::set<std::string>& paths, const std::stop_token& stop);

    /// Ends the session, if open: an idle nix-store would hold Nix's store lock for nothing.
    void close() { conn_.reset(); }

private:
    nix::MachineConnection& session();

    SubstituterOptions opts_;
    std::optional<nix::MachineConnection> conn_;
};

} // namespace hydra::qr

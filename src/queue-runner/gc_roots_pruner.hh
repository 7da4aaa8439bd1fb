#pragma once
// Keeps Nix's garbage collector from filling the store with what no build needs any more, as
// Hydra's hydra-update-gc-roots does: roots only for what the database still points to.

#include "db/connection_pool.hh"
#include "nix/gc_roots.hh"
#include "util/clock.hh"
#include "util/hydra_config.hh"

#include <chrono>
#include <cstddef>
#include <stop_token>

namespace hydra::qr {

/// What one pass did.
struct GcRootsReport {
    size_t kept = 0;    ///< roots left in place
    size_t removed = 0; ///< roots of paths no build needs
    size_t added = 0;   ///< roots made for needed paths that had none (e.g. a build marked keep)
};

/// How young a root must be to be spared: an evaluation runs at most evaluator_timeout, and its
/// builds are committed within the hour after.
std::chrono::seconds gcRootsGrace(const HydraConfig& config);

/// One pass over a roots directory against the database (db::storePathsToKeep).
class GcRootsPruner {
public:
    /// A root younger than `grace` is never removed: an evaluation still running roots its
    /// derivations before its builds are committed, so the database cannot name them yet.
    GcRootsPruner(db::ConnectionPool& pool, const nix::GcRoots& roots, std::chrono::seconds grace,
                  const Clock& clock);

    GcRootsReport run() const;

    /// Runs a pass every `interval` until `stop` (hydra-queue-runner's periodic pass); a failed
    /// pass is logged and the next one tried.
    void runEvery(std::chrono::seconds interval, const std::stop_token& stop) const;

private:
    db::ConnectionPool& pool_;
    const nix::GcRoots& roots_;
    std::chrono::seconds grace_;
    const Clock& clock_;
};

} // namespace hydra::qr

#pragma once
// Which store paths the database still needs kept from Nix's garbage collector.

#include <cstdint>
#include <pqxx/transaction_base>
#include <string>
#include <vector>

namespace hydra::db {

/// The store paths Hydra keeps GC roots for, as hydra-update-gc-roots does: the outputs of the
/// builds of each jobset's last `keepnr` evaluations (none for a jobset that is disabled and
/// hidden, or whose project is hidden, and was last checked more than a week before `now`),
/// the outputs of builds marked keep, and the derivations and outputs of queued builds.
std::vector<std::string> storePathsToKeep(pqxx::transaction_base& t, int64_t now);

} // namespace hydra::db

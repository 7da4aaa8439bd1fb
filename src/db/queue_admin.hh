#pragma once
// The administrator's queue actions: cancel what no current evaluation needs, and forget the
// failed-paths cache.

#include <cstdint>
#include <pqxx/transaction_base>

namespace hydra::db {

/// Cancels (as cancelBuilds does) every queued build of an enabled jobset that is not in its
/// jobset's latest evaluation with new builds; returns how many. Builds of disabled jobsets are
/// left alone: they belong to no current evaluation by design.
int clearQueueNonCurrent(pqxx::transaction_base& t, int64_t now);

/// Empties FailedPaths, so that every path is tried again; returns how many were removed.
int clearFailedPaths(pqxx::transaction_base& t);

} // namespace hydra::db

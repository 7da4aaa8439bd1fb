#pragma once
// Writing one finished evaluation: its Builds (new or reused from the previous evaluation),
// JobsetEvals row and companion tables, and the notifications announcing them.

#include "db/eval_records.hh"

#include <cstdint>
#include <pqxx/transaction_base>

namespace hydra::db {

/// The channels an evaluation's writing sends on (Hydra's names).
namespace channel {
inline constexpr const char* buildQueued = "build_queued";
inline constexpr const char* evalAdded = "eval_added";
inline constexpr const char* buildsAdded = "builds_added";
inline constexpr const char* cachedBuildQueued = "cached_build_queued";
inline constexpr const char* cachedBuildFinished = "cached_build_finished";
} // namespace channel

/// Writes `ev` as Hydra's evaluator does, in the caller's transaction (the notifications go out
/// when it commits). A job whose outputs equal those of the same job's build in the jobset's
/// latest evaluation with new builds reuses that build; every other job gets a new queued
/// build. When nothing changed (no new build and the same number of jobs) the JobsetEvals row
/// has hasNewBuilds = 0, no members and no cached_build_* notifications. Aggregate
/// constituents naming no job of `ev` are skipped. Notifies build_queued per new build,
/// eval_added, cached_build_finished/queued per reused build and builds_added with the lowest
/// new id. A fixed number of statements whatever the number of jobs.
EvalWriteResult writeEvaluation(pqxx::transaction_base& t, const NewEvaluation& ev, int64_t now);

} // namespace hydra::db

#pragma once
// The evaluator's view of Jobsets: which to schedule, their definitions, claiming one for an
// evaluation and recording its outcome, and the eval_* announcements.

#include "db/eval_records.hh"

#include <cstdint>
#include <optional>
#include <pqxx/transaction_base>
#include <string>
#include <vector>

namespace hydra::db {

/// Every enabled jobset (enabled != 0) of an enabled project (enabled = 1), by id, in one query.
std::vector<JobsetState> jobsetsToSchedule(pqxx::transaction_base& t);

/// A jobset with its inputs (by name) and their alternatives (altnr ascending); nullopt if none.
std::optional<JobsetDefinition> loadJobset(pqxx::transaction_base& t, int id);
std::optional<JobsetDefinition> loadJobset(pqxx::transaction_base& t, const std::string& project,
                                           const std::string& name);

/// Sets startTime = now if no evaluation holds the jobset; true if this call claimed it (a
/// concurrent claimer waits for the first to commit, then gets false).
bool claimJobset(pqxx::transaction_base& t, int id, int64_t now);

/// Records a finished check, whatever its outcome: lastCheckedTime = now, a trigger older than
/// the claim cleared (one that arrived during the evaluation stays), startTime cleared.
void finishJobsetCheck(pqxx::transaction_base& t, int id, int64_t now);

/// In the transaction that writes a new evaluation: forceEval cleared and a one-shot jobset
/// disabled (a check that failed or was cached leaves both for the next one).
void markJobsetEvaluated(pqxx::transaction_base& t, int id);

/// Clears startTime of an evaluation that stopped without finishing.
void releaseJobset(pqxx::transaction_base& t, int id);

/// Sets errorMsg and errorTime = now; nullopt clears both.
void setJobsetError(pqxx::transaction_base& t, int id, int64_t now,
                    const std::optional<std::string>& errorMsg);

/// Sets fetchErrorMsg; nullopt clears it.
void setFetchError(pqxx::transaction_base& t, int id, const std::optional<std::string>& msg);

/// Clears startTime of every jobset holding one; returns how many (hydra-evaluator --unlock).
int unlockJobsets(pqxx::transaction_base& t);

/// The jobset's latest evaluation (highest id, with or without new builds).
std::optional<PreviousEval> latestEval(pqxx::transaction_base& t, int jobsetId);

/// The channels the evaluator sends on while it evaluates a jobset (Hydra's names, and
/// eval_progress, this project's: how many jobs an evaluation has found so far).
namespace channel {
inline constexpr const char* evalStarted = "eval_started";
inline constexpr const char* evalFailed = "eval_failed";
inline constexpr const char* evalCached = "eval_cached";
inline constexpr const char* evalProgress = "eval_progress";
} // namespace channel

/// eval_started: `traceId<TAB>jobsetId`.
void notifyEvalStarted(pqxx::transaction_base& t, const std::string& traceId, int jobsetId);
/// eval_failed: `traceId<TAB>jobsetId`.
void notifyEvalFailed(pqxx::transaction_base& t, const std::string& traceId, int jobsetId);
/// eval_cached: `traceId<TAB>jobsetId<TAB>prevEvalId` (the inputs equal those of prevEvalId).
void notifyEvalCached(pqxx::transaction_base& t, const std::string& traceId, int jobsetId,
                      int64_t prevEvalId);
/// eval_progress: `traceId<TAB>jobsetId<TAB>jobs found so far` (for live pages; sent outside any
/// other transaction's commit, so it is never held back by one).
void notifyEvalProgress(pqxx::transaction_base& t, const std::string& traceId, int jobsetId, size_t jobs);

} // namespace hydra::db

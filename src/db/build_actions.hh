#pragma once
// What people do to builds and evaluations: restart, cancel, bump to the front of the queue and
// keep, as Hydra's restartBuilds and cancelBuilds do them. Run each call in one pqxx::work; the
// schema's triggers send builds_restarted, builds_cancelled and builds_bumped when it commits.

#include <cstdint>
#include <optional>
#include <pqxx/transaction_base>
#include <span>
#include <string>
#include <vector>

namespace hydra::db {

/// The project of the build, which decides who may act on it; nullopt when there is no such build.
std::optional<std::string> projectOfBuild(pqxx::transaction_base& t, int64_t buildId);

/// The project of the evaluation's jobset; nullopt when there is no such evaluation.
std::optional<std::string> projectOfEval(pqxx::transaction_base& t, int64_t evalId);

/// Requeues the finished builds among `ids` (others are left alone): their result (status, cached
/// flag, start and stop times: a queued build's page must not show the last run's) is cleared,
/// the FailedPaths entries of their outputs and their steps' outputs removed (so they are built
/// again rather than failing at once as cached failures) and the success counts of their
/// evaluations forgotten. Returns the ids requeued, ascending.
std::vector<int64_t> restartBuilds(pqxx::transaction_base& t, std::span<const int64_t> ids);

/// Finishes the queued builds among `ids` as cancelled (status 4, started and stopped `now`).
/// Returns the ids cancelled, ascending.
std::vector<int64_t> cancelBuilds(pqxx::transaction_base& t, std::span<const int64_t> ids, int64_t now);

/// Puts the queued builds among `ids` at the front of the queue (globalPriority = now).
/// Returns the ids bumped, ascending.
std::vector<int64_t> bumpBuilds(pqxx::transaction_base& t, std::span<const int64_t> ids, int64_t now);

/// Marks a build to be kept from garbage collection (keep = 1) or not; false when there is no
/// such build.
bool setBuildKeep(pqxx::transaction_base& t, int64_t id, bool keep);

/// Which finished builds of an evaluation a restart takes (Hydra's two eval buttons).
enum class EvalRestart {
    Failed, ///< every finished build that did not succeed
    Aborted ///< aborted (3), cancelled (4) and unsupported-system (9) builds
};

/// Restarts the evaluation's builds that `which` selects; nullopt when there is no such
/// evaluation, else how many builds were requeued.
std::optional<int> restartEvalBuilds(pqxx::transaction_base& t, int64_t evalId, EvalRestart which);

/// Cancels the evaluation's queued builds; nullopt when there is no such evaluation.
std::optional<int> cancelEvalBuilds(pqxx::transaction_base& t, int64_t evalId, int64_t now);

/// Bumps the evaluation's queued builds; nullopt when there is no such evaluation.
std::optional<int> bumpEvalBuilds(pqxx::transaction_base& t, int64_t evalId, int64_t now);

} // namespace hydra::db

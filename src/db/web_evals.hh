#pragma once
// Reading evaluations for the web server: lists, one evaluation, and the light rows that
// compare an evaluation with the one before it.

#include "db/web_records.hh"

#include <cstdint>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

namespace hydra::db::web {

/// A build as an evaluation's comparison needs it.
struct EvalBuild {
    int64_t id = 0;
    std::string job, system, nixName;
    bool finished = false;
    std::optional<int> buildStatus;
    std::optional<int64_t> stopTime;
};

/// A page of a jobset's evaluations (those that added builds, newest first), with their
/// builds and inputs; `total` is how many there are in all.
struct EvalPage {
    std::vector<Eval> evals;
    int64_t total = 0;
};
/// `withMembers`: also the ids of their builds (JSON wants them; a page of 20 evaluations of
/// 20,000 builds each is 400,000 ids, so the HTML lists do without).
EvalPage jobsetEvals(pqxx::transaction_base& t, int jobsetId, int64_t offset, int64_t limit,
                     bool withMembers);

/// The newest evaluations of every jobset (the /evals page), newest first.
EvalPage recentEvals(pqxx::transaction_base& t, int64_t offset, int64_t limit, bool withMembers);

/// A jobset the evaluator is evaluating now (its startTime is set).
struct RunningEval {
    int jobsetId = 0;
    std::string project, jobset;
    int64_t startTime = 0;
};
/// Every jobset being evaluated, the longest-running first.
std::vector<RunningEval> runningEvals(pqxx::transaction_base& t);

/// One cell of the jobs-by-evaluations grid: the build of `job` in `eval`.
struct GridCell {
    int64_t eval = 0, build = 0;
    std::string job;
    bool finished = false;
    std::optional<int> buildStatus;
};
/// A page of the grid, and whether the newest evaluation has jobs after it.
struct GridPage {
    std::vector<GridCell> cells;
    bool hasMore = false;
};
/// The cells of `evalIds` for the jobs `offset`..`offset+limit` (by name) of the newest of them.
GridPage jobGrid(pqxx::transaction_base& t, const std::vector<int64_t>& evalIds, int64_t offset,
                 int64_t limit);

/// One evaluation with its builds and inputs, or nullopt.
std::optional<Eval> findEval(pqxx::transaction_base& t, int64_t id);

/// The evaluation of the same jobset before `eval` (that added builds), if any.
std::optional<int64_t> previousEval(pqxx::transaction_base& t, const Eval& eval);

/// The newest evaluation of a jobset whose builds have all finished, if any.
std::optional<int64_t> latestFinishedEval(pqxx::transaction_base& t, int jobsetId);

/// The builds of an evaluation, light, by job name then system.
std::vector<EvalBuild> evalBuilds(pqxx::transaction_base& t, int64_t evalId);

/// The output paths of an evaluation's successful builds.
std::vector<std::string> evalStorePaths(pqxx::transaction_base& t, int64_t evalId);

/// The build of `job` in an evaluation, if it has one.
std::optional<int64_t> evalJobBuild(pqxx::transaction_base& t, int64_t evalId, const std::string& job);

} // namespace hydra::db::web

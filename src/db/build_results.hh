#pragma once
// Finishing builds: succeeded (outputs, products, metrics), failed with their dependents in one
// transaction, cached failures, aborted builds; FailedPaths; reusing a previous build's result.
// Every function that finishes a build sets notificationPendingSince and sends build_finished in
// the caller's transaction, so the notification goes out exactly when the change commits.

#include <cstdint>
#include <optional>
#include <pqxx/transaction_base>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "db/build_status.hh"
#include "db/build_steps.hh"

namespace hydra::db {

using BuildId = int64_t;

/// One BuildProducts row (productnr is the position in the list, from 1).
struct BuildProduct {
    std::string type;
    std::string subtype;
    std::optional<int64_t> fileSize;       ///< set for regular files
    std::optional<std::string> sha256hash; ///< base16
    std::string path;
    std::string name;
    std::string defaultPath;
};

/// One BuildMetrics row (project, jobset, job and timestamp are copied from the build).
struct BuildMetric {
    std::string name;
    std::string unit; ///< "" stores NULL
    double value = 0;
};

/// A build output path now known (BuildOutputs.path is updated).
struct OutputPath {
    std::string name;
    std::string path;
};

/// What markSucceededBuild records.
struct SucceededBuild {
    BuildId id = 0;
    bool failedWithOutput = false; ///< nix-support/failed exists: status 6 instead of 0
    bool isCachedBuild = false;
    int64_t startTime = 0;
    int64_t stopTime = 0; ///< also notificationPendingSince
    int64_t size = 0;
    int64_t closureSize = 0;
    std::string releaseName; ///< "" stores NULL
    std::vector<OutputPath> outputs;
    std::vector<BuildProduct> products; ///< replace any previous products
    std::vector<BuildMetric> metrics;   ///< replace any previous metrics
};

/// Finishes a queued build as succeeded (or failed with output) and sends build_finished `id`.
/// Returns false, changing nothing, when the build is no longer queued.
bool markSucceededBuild(pqxx::transaction_base& t, const SucceededBuild& b);

/// A step that failed and everything needed to record it for the builds depending on it.
struct StepFailure {
    BuildId buildId = 0; ///< the build the step ran for; first in build_finished
    std::string drvPath; ///< the step's derivation
    std::string system;
    BuildStatus stepStatus = BuildStatus::Failed;
    std::string errorMsg;
    std::string machine;
    int64_t startTime = 0;
    int64_t stopTime = 0;
    std::vector<StepOutput> outputs;      ///< BuildStepOutputs of the rows created for dependents
    std::vector<std::string> failedPaths; ///< remembered in FailedPaths (leave empty when not cacheable)
};

/// A build that needs the failed step (its top-level derivation tells whether it failed itself).
struct DependentBuild {
    BuildId id = 0;
    std::string drvPath;
};

/// Build status of `b` when step `f` failed, as Hydra derives it: a cached failure counts as
/// failed (1); a plain failure of another derivation is a dependency failure (2); any other
/// status (timed out, aborted, unsupported...) is passed on as it is.
BuildStatus failedBuildStatus(const StepFailure& f, const DependentBuild& b);

/// In the caller's transaction: finishes every still-queued build of `builds` with
/// failedBuildStatus (times from the step, isCachedBuild for a cached failure,
/// notificationPendingSince), records a step row with the failure for each build that has no
/// row of its own for it (propagatedFrom = f.buildId), inserts f.failedPaths into FailedPaths
/// (not for a cached failure), and sends one build_finished: f.buildId, then the other builds
/// finished here. Returns the builds finished here, in id order.
std::vector<BuildId> failBuilds(pqxx::transaction_base& t, const StepFailure& f,
                                std::span<const DependentBuild> builds);

/// A build found at load time to need a derivation whose output is in FailedPaths.
struct CachedFailure {
    BuildId build = 0;
    std::string buildDrvPath;
    std::string stepDrvPath; ///< the derivation with a failed output
    std::string system;      ///< of the step's derivation
    std::vector<StepOutput> outputs;
    int64_t now = 0;
};

/// The latest build whose step of `drvPath` (or a step producing one of `outputPaths`) failed.
std::optional<BuildId> findFailedStepBuild(pqxx::transaction_base& t, const std::string& drvPath,
                                           std::span<const std::string> outputPaths);

/// Finishes the build as a cached failure: a step row with status 8 and propagatedFrom, then
/// status 1 (its own derivation) or 2, isCachedBuild 1, build_finished. False if not queued.
bool finishCachedFailure(pqxx::transaction_base& t, const CachedFailure& c);

/// Finishes a queued build as aborted (3), e.g. when its .drv is gone; a non-empty `reason`
/// is kept as the errorMsg of a step row so users can see it. False if not queued.
bool abortBuild(pqxx::transaction_base& t, BuildId id, const std::string& drvPath, int64_t now,
                const std::string& reason);

/// Remembers failed output paths (inserting a known path again is not an error).
void addFailedPaths(pqxx::transaction_base& t, std::span<const std::string> paths);

/// The first of `paths` (in the given order) that is in FailedPaths.
std::optional<std::string> findFailedPath(pqxx::transaction_base& t, std::span<const std::string> paths);

/// Those of `paths` that are in FailedPaths (one query for a whole page of queued builds).
std::set<std::string> failedPaths(pqxx::transaction_base& t, std::span<const std::string> paths);

/// A finished, successful earlier build that produced one of the outputs: its result is reused
/// when a new build's outputs are all valid already (a cached success).
struct PreviousResult {
    BuildId build = 0;
    bool failedWithOutput = false;
    std::string releaseName;
    int64_t size = 0;
    int64_t closureSize = 0;
    std::vector<BuildProduct> products;
    std::vector<BuildMetric> metrics;
};

/// The latest successful (0 or 6) finished build having one of `outputPaths` as an output.
std::optional<PreviousResult> previousBuildResult(pqxx::transaction_base& t,
                                                  std::span<const std::string> outputPaths);

} // namespace hydra::db

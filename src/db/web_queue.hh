#pragma once
// Reading the farm as it is now for the web server: the queue, its summary, the steps running
// and the steps just finished. Each is one query whose cost follows the rows shown (or the
// queue's length), never the size of Builds or BuildSteps.

#include "db/web_records.hh"

#include <cstdint>
#include <pqxx/pqxx>
#include <string>
#include <vector>

namespace hydra::db::web {

/// Ids of queued builds in Hydra's queue order (global priority, then oldest first).
std::vector<int64_t> queuedBuildIds(pqxx::transaction_base& t, int64_t offset, int64_t limit);

/// Queued builds of one jobset.
struct QueuedInJobset {
    std::string project, jobset;
    int64_t queued = 0, oldest = 0, newest = 0; ///< oldest/newest: queue timestamps
};
/// Queued builds of one system type.
struct QueuedForSystem {
    std::string system;
    int64_t queued = 0;
};
/// The queue counted per jobset and per system, most queued first (as Hydra's queue summary).
struct QueueSummary {
    std::vector<QueuedInJobset> jobsets;
    std::vector<QueuedForSystem> systems;
};
QueueSummary queueSummary(pqxx::transaction_base& t);

/// A step with the names of the build it belongs to.
struct StepOfBuild {
    BuildStep step;
    std::string project, jobset, job, nixName;
};

/// Steps running now (busy != 0), by build in queue order then step, at most `limit`.
std::vector<StepOfBuild> runningSteps(pqxx::transaction_base& t, int64_t limit);

/// Finished steps, the last to stop first (IndexBuildStepsOnStopTime).
std::vector<StepOfBuild> finishedSteps(pqxx::transaction_base& t, int64_t offset, int64_t limit);

} // namespace hydra::db::web

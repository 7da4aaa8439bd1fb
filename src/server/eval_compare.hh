#pragma once
// Sorting an evaluation's builds against another evaluation's, as Hydra's evaluation page does.

#include "db/web_evals.hh"

#include <vector>

namespace hydra::server {

/// The builds of an evaluation grouped against another's (matched by job and system).
struct EvalComparison {
    std::vector<db::web::EvalBuild> newJobs, removedJobs, nowFailing, nowSucceeding, stillFailing,
        stillSucceeding, unfinished, aborted;
};

/// Groups `current` against `previous` (both as evalBuilds returns them). Linear in their size.
EvalComparison compareEvals(const std::vector<db::web::EvalBuild>& current,
                            const std::vector<db::web::EvalBuild>& previous);

} // namespace hydra::server

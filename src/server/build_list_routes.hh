#pragma once
// The lists of builds that Hydra offers alike on /, /project/P, /jobset/P/J and /job/P/J/JOB:
// the latest, latest-for and latest-finished redirects and the paged "all" list.

#include "server/router.hh"

namespace hydra::server {

/// Where a list of builds is rooted.
enum class BuildListLevel { Farm, Project, Jobset, Job };

/// Which build a latest-* redirect goes to.
enum class LatestKind {
    Successful,   ///< …/latest: the newest successful build
    ForSystem,    ///< …/latest-for/:system: the same on one system
    FinishedEval, ///< …/latest-finished: the newest in an evaluation with nothing unfinished
};

/// The handler of a latest-* route on `level`: 302 to /build/ID[/rest], 404 when none.
Handler latestBuildRedirect(BuildListLevel level, LatestKind kind);

/// The handler of …/all?page=N on `level`: finished builds, 20 a page, newest first.
Handler allBuildsPage(BuildListLevel level);

} // namespace hydra::server

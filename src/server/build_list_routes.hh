#pragma once
// The lists of builds that Hydra offers alike on /, /project/P, /jobset/P/J and /job/P/J/JOB:
// the latest, latest-for and latest-finished redirects and the paged "all" list.

#include "db/web_jobs.hh"
#include "server/router.hh"

#include <string>

namespace hydra::server {

class Site;

/// Where a list of builds is rooted.
enum class BuildListLevel { Farm, Project, Jobset, Job };

/// Which build a latest-* redirect goes to.
enum class LatestKind {
    Successful,   ///< …/latest: the newest successful build
    ForSystem,    ///< …/latest-for/:system: the same on one system
    FinishedEval, ///< …/latest-finished: the newest in an evaluation with nothing unfinished
};

/// A level resolved for one request: the builds it covers, its name and its page's path.
struct ResolvedScope {
    db::web::BuildScope scope;
    std::string name; ///< "P:J:JOB", "" for the farm
    std::string path; ///< percent-encoded, "" for the farm
};

/// The scope of `level` named by the request's parameters; HttpError 404 for a project or
/// jobset that does not exist.
ResolvedScope resolveBuildScope(const Site& site, const Request& req, BuildListLevel level);

/// The handler of a latest-* route on `level`: 302 to /build/ID[/rest], 404 when none.
Handler latestBuildRedirect(BuildListLevel level, LatestKind kind);

/// The handler of …/all?page=N on `level`: finished builds, 20 a page, newest first.
Handler allBuildsPage(BuildListLevel level);

} // namespace hydra::server

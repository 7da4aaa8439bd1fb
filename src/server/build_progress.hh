#pragma once
// The progress of an unfinished build on its page: steps done, running (where, at which stage)
// and waiting (derivations it needs that nothing has built yet).

#include "db/web_records.hh"
#include "server/html.hh"

#include <vector>

namespace hydra::server {

class Site;

/// Empty for a finished build.
Html buildProgress(const Site& site, const db::web::Build& build,
                   const std::vector<db::web::BuildStep>& steps);

} // namespace hydra::server

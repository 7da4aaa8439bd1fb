#pragma once
// POST /build/ID/restart, /cancel, /bump and /keep/0|1: Hydra's build buttons, each checking
// the role it needs against the build's project.

#include "server/router.hh"

namespace hydra::server {

Response buildRestartAction(const Site& site, const Request& req); ///< role restart-jobs
Response buildCancelAction(const Site& site, const Request& req);  ///< role cancel-build
Response buildBumpAction(const Site& site, const Request& req);    ///< role bump-to-front
Response buildKeepAction(const Site& site, const Request& req);    ///< the project's owner or members

} // namespace hydra::server

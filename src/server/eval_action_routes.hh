#pragma once
// POST /eval/ID/restart-failed, /restart-aborted, /cancel and /bump: Hydra's evaluation
// buttons, acting on the evaluation's builds.

#include "server/router.hh"

namespace hydra::server {

Response evalRestartFailedAction(const Site& site, const Request& req);  ///< role restart-jobs
Response evalRestartAbortedAction(const Site& site, const Request& req); ///< role restart-jobs
Response evalCancelAction(const Site& site, const Request& req);         ///< role cancel-build
Response evalBumpAction(const Site& site, const Request& req);           ///< role bump-to-front

} // namespace hydra::server

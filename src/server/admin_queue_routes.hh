#pragma once
// The administrator's queue actions: POST /admin/clear-queue-non-current (cancel queued builds
// no current evaluation needs) and /admin/clear-failed-cache (forget FailedPaths).

#include "server/router.hh"

namespace hydra::server {

Response adminClearQueueNonCurrent(const Site& site, const Request& req);
Response adminClearFailedCache(const Site& site, const Request& req);

} // namespace hydra::server

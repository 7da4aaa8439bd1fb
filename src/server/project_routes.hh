#pragma once
// Handlers of the overview (/) and of /project/P.

#include "server/router.hh"

namespace hydra::server {

Response overviewPage(const Site& site, const Request& req);
Response projectPage(const Site& site, const Request& req);

} // namespace hydra::server

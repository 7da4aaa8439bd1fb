#pragma once
// Handlers of Hydra's /api read endpoints: latestbuilds, queue, nrqueue and jobsets. They
// answer JSON (nrqueue plain text) whatever the client accepts, as Hydra does.

#include "server/router.hh"

namespace hydra::server {

Response apiLatestBuilds(const Site& site, const Request& req);
Response apiQueue(const Site& site, const Request& req);
Response apiNrQueue(const Site& site, const Request& req);
Response apiJobsets(const Site& site, const Request& req);

} // namespace hydra::server

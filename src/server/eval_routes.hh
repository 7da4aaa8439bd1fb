#pragma once
// Handlers of /eval/ID and its builds, store paths, errors and job redirects.

#include "server/router.hh"

namespace hydra::server {

Response evalPage(const Site& site, const Request& req);
Response evalBuildsPage(const Site& site, const Request& req);
Response evalStorePaths(const Site& site, const Request& req);
Response evalErrorsPage(const Site& site, const Request& req);
Response evalJobRedirect(const Site& site, const Request& req);

} // namespace hydra::server

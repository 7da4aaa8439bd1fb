#pragma once
// Handlers of /build/ID: the build page, its constituents, one step, get-info, old log links.

#include "db/web_records.hh"
#include "server/router.hh"

namespace hydra::server {

Response buildPage(const Site& site, const Request& req);
Response buildConstituents(const Site& site, const Request& req);
Response buildStepPage(const Site& site, const Request& req);
Response buildGetInfo(const Site& site, const Request& req);
Response buildNixlogRedirect(const Site& site, const Request& req);

/// The build of the route's :id, or HttpError 400/404.
db::web::Build requireBuild(const Site& site, const Request& req);

} // namespace hydra::server

#pragma once
// Handler of /search?query=Q: projects, jobsets and builds (by output or .drv path).

#include "server/router.hh"

namespace hydra::server {

Response searchPage(const Site& site, const Request& req);

} // namespace hydra::server

#pragma once
// The routing table of hydra-server: every URL, its method, who may use it and its handler.

#include "server/router.hh"

#include <vector>

namespace hydra::server {

/// All routes, in matching order (first match wins).
const std::vector<Route>& routeTable();

} // namespace hydra::server

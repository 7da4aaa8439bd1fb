#pragma once
// The web application: one request in, one response out — base_uri, routing, access,
// content negotiation of errors and `Vary: Accept`.

#include "server/http.hh"
#include "server/router.hh"

#include <vector>

namespace hydra::server {

class Site;

/// Answers `req` from `routes`. Never throws: errors become 4xx/5xx answers (JSON when JSON
/// was asked), unexpected ones are logged.
Response handleRequest(const Site& site, const std::vector<Route>& routes, Request req);

} // namespace hydra::server

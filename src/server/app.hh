#pragma once
// The web application: one request in, one response out — base_uri, routing, access,
// content negotiation of errors and `Vary: Accept`.

#include "server/http.hh"
#include "server/router.hh"
#include "server/server_config.hh"

#include <string_view>

#include <vector>

namespace hydra::server {

class Site;

/// Answers `req` from `routes`. Never throws: errors become 4xx/5xx answers (JSON when JSON
/// was asked), unexpected ones are logged.
Response handleRequest(const Site& site, const std::vector<Route>& routes, Request req);

/// The largest request body `path` (as received, with base_uri's path or without) accepts:
/// config.maxWebhookBody for a forge's webhook, which carries a whole push event, else
/// config.maxRequestBody.
size_t bodyLimit(const ServerConfig& config, const std::vector<Route>& routes, std::string_view path);

} // namespace hydra::server

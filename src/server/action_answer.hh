#pragma once
// The answer of an action on builds, evaluations and the queue: Hydra's "302 back" for
// browsers, a JSON object for clients that asked for JSON.

#include "server/http.hh"

#include <nlohmann/json.hpp>
#include <string_view>

namespace hydra::server {

class Site;

/// JSON `result` when the request wants JSON, else 302 to the page the request came from
/// (or `fallbackPath`).
Response actionAnswer(const Site& site, const Request& req, std::string_view fallbackPath,
                      const nlohmann::json& result);

} // namespace hydra::server

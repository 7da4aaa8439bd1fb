#pragma once
// The account corner of every page's header: "Log in", or the user and a logout button.

#include "server/http.hh"

#include <string_view>

namespace hydra::server {

class Site;

/// Where the layout leaves room for the account corner. Pages are built by handlers that
/// need not know who is looking; the dispatcher, which does, fills it in afterwards.
inline constexpr std::string_view accountMenuMarker = "<!--hydra-account-->";

/// Replaces the marker in an HTML page's header with the account corner for req.user.
void fillAccountMenu(const Site& site, const Request& req, Response& res);

} // namespace hydra::server

#pragma once
// Who may see and change an account: the user themself or an administrator, and which changes
// need a browser's login rather than an API token.

#include "server/http.hh"

#include <string_view>

namespace hydra::server {

/// The logged-in user when it is `userName` or an admin; HttpError 403 otherwise (and for
/// anonymous requests), as Hydra refuses to show or edit other users.
const Identity& requireSelfOrAdmin(const Request& req, std::string_view userName);

/// HttpError 403 when the request authenticates with an API token: new tokens and passwords
/// come from a logged-in browser (or `hydra token create`), so that a leaked token cannot
/// outlive its revocation by minting another one or taking the account over.
void requireSessionLogin(const Request& req, std::string_view what);

} // namespace hydra::server

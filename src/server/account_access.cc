#include "server/account_access.hh"

#include "server/permissions.hh"

#include <string>

namespace hydra::server {

const Identity& requireSelfOrAdmin(const Request& req, std::string_view userName)
{
    const auto& user = requireUser(req);
    if (user.username != userName && !user.isAdmin())
        throw HttpError(403, "You do not have permission to see or edit other users.");
    return user;
}

void requireSessionLogin(const Request& req, std::string_view what)
{
    if (requireUser(req).via != Identity::Via::Session)
        throw HttpError(403, std::string(what) + " needs a logged-in browser session, not an API token.");
}

} // namespace hydra::server

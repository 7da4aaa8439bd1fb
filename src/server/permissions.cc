#include "server/permissions.hh"

#include "db/web_auth.hh"
#include "server/site.hh"

#include <string>

namespace hydra::server {

namespace {

bool isProjectMember(const Site& site, const Identity& user, std::string_view project)
{
    return site.read([&](auto& t) { return db::hasProjectRights(t, std::string(project), user.username); });
}

} // namespace

const Identity& requireUser(const Request& req)
{
    if (!req.user) throw HttpError(403, "This page requires you to sign in.");
    return *req.user;
}

void requireAdmin(const Request& req)
{
    if (!requireUser(req).isAdmin()) throw HttpError(403, "Only administrators can perform this operation.");
}

bool mayAct(const Site& site, const Request& req, std::string_view role,
            std::optional<std::string_view> project)
{
    if (!req.user) return false;
    if (req.user->isAdmin() || (!role.empty() && req.user->hasRole(role))) return true;
    return project && isProjectMember(site, *req.user, *project);
}

void requireRole(const Site& site, const Request& req, std::string_view role,
                 std::optional<std::string_view> project)
{
    requireUser(req);
    if (!mayAct(site, req, role, project))
        throw HttpError(403, project ? "Only the project members, administrators and users with the role '" +
                                           std::string(role) + "' can perform this operation."
                                     : "Only administrators and users with the role '" + std::string(role) +
                                           "' can perform this operation.");
}

void requireProjectRights(const Site& site, const Request& req, std::string_view project)
{
    requireUser(req);
    if (!mayAct(site, req, "", project))
        throw HttpError(403, "Only the project members or administrators can perform this operation.");
}

} // namespace hydra::server

#pragma once
// Who may do what, as Hydra decides it: admins everything, a project's owner and members
// everything in their project, other users what their roles allow. Handlers of Action routes
// call one of these before changing anything.

#include "server/http.hh"

#include <optional>
#include <string_view>

namespace hydra::server {

class Site;

/// The logged-in user; HttpError 403 "This page requires you to sign in." when anonymous.
const Identity& requireUser(const Request& req);

/// HttpError 403 unless the user is an admin.
void requireAdmin(const Request& req);

/// HttpError 403 unless the user is an admin, holds `role`, or (when `project` is given) owns
/// the project or is one of its members.
void requireRole(const Site& site, const Request& req, std::string_view role,
                 std::optional<std::string_view> project = std::nullopt);

/// HttpError 403 unless the user is an admin or the project's owner or member.
void requireProjectRights(const Site& site, const Request& req, std::string_view project);

/// The same decision as requireRole, without throwing (for showing buttons).
bool mayAct(const Site& site, const Request& req, std::string_view role,
            std::optional<std::string_view> project = std::nullopt);

} // namespace hydra::server

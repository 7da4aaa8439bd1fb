#pragma once
// Administering users, as Hydra's admins do it: the list of users (/admin/users) and creating
// one (/register).

#include "server/http.hh"

namespace hydra::server {

class Site;

/// GET /admin/users: every user with roles (JSON: a list of User), admins only.
Response adminUsersPage(const Site& site, const Request& req);
/// GET /register: the form that creates a user, admins only.
Response registerPage(const Site& site, const Request& req);
/// PUT /register (Hydra's JSON {username, fullname, emailaddress, password, password2, roles}:
/// 204) and POST /register (the form: 302 to the new user's page); admins only.
Response registerAction(const Site& site, const Request& req);

} // namespace hydra::server

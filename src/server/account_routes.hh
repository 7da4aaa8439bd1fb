#pragma once
// A user's account page, /user/NAME, as Hydra has it: seen and edited by the user themself
// (full name, e-mail address, password) or by an admin (also roles, and deleting the user).

#include "server/http.hh"

namespace hydra::server {

class Site;

/// GET /user/NAME: the User (JSON) or the page with its edit form.
Response userPage(const Site& site, const Request& req);
/// PUT /user/NAME (Hydra's JSON: 204) and POST /user/NAME (the page's form: 302 to the page).
Response userUpdate(const Site& site, const Request& req);
/// DELETE /user/NAME (204) and POST /user/NAME/delete (302 to /admin/users): admins only.
Response userDelete(const Site& site, const Request& req);

} // namespace hydra::server

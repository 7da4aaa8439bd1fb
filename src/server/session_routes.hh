#pragma once
// Logging in and out: the login page, POST /login, POST /logout and /current-user.

#include "server/http.hh"

namespace hydra::server {

class Site;

Response loginPage(const Site& site, const Request& req);
Response loginAction(const Site& site, const Request& req);
Response logoutAction(const Site& site, const Request& req);
Response currentUserPage(const Site& site, const Request& req);

} // namespace hydra::server

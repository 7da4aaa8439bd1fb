#pragma once
// API tokens' pages (Hydra has none): a user lists, creates and revokes their named tokens;
// a script then sends `Authorization: Bearer TOKEN`.

#include "server/http.hh"

namespace hydra::server {

class Site;

/// GET /user/NAME/tokens: the user's tokens without their secrets (JSON: [{name, created,
/// lastused}]), for the user or an admin.
Response tokensPage(const Site& site, const Request& req);
/// POST /user/NAME/tokens with the field "name" (form or JSON): the new token, shown this once
/// (JSON: 201 {name, token}); only the user, from a browser session.
Response tokenCreate(const Site& site, const Request& req);
/// POST /user/NAME/tokens/TOKEN/revoke (form: 302 to the list) and DELETE
/// /user/NAME/tokens/TOKEN (204): the user or an admin.
Response tokenRevoke(const Site& site, const Request& req);

} // namespace hydra::server

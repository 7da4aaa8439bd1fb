#pragma once
// Authentication of requests (session cookie or bearer token) and the same-site checks that
// keep a foreign page from acting for a logged-in user.

#include "server/http.hh"
#include "server/router.hh"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hydra::server {

class Site;

/// The session cookie's name, as Hydra names its own.
inline constexpr std::string_view sessionCookieName = "hydra_session";

/// How long a session lasts after login.
inline constexpr int64_t sessionLifetimeSeconds = int64_t{7} * 24 * 3600;

/// Sets req.user from `Authorization: Bearer TOKEN` or the session cookie. A bearer token that
/// is unknown or revoked is refused (HttpError 401) rather than treated as anonymous, so that
/// a script learns its token is gone; an unknown or expired cookie just means anonymous.
void authenticate(const Site& site, Request& req);

/// Refuses (HttpError 403) a state-changing request a foreign page could have sent: an
/// Action or Open request carried by the browser (a session cookie, or a login) whose Origin,
/// else Referer, is not this site; and an Action form posted with a session cookie that lacks
/// the session's anti-forgery token. GET and HEAD, and bearer-token requests, pass.
void checkSameSite(const Site& site, const Request& req, Access access);

/// The request's session token from its Cookie header, if it carries one.
std::optional<std::string> sessionToken(const Request& req);

/// The request reached us over HTTPS (directly per base_uri, or per X-Forwarded-Proto).
bool isHttps(const Site& site, const Request& req);

/// The Set-Cookie value that stores `token` for `maxAge` seconds (0 deletes the cookie).
std::string sessionCookie(const Site& site, const Request& req, std::string_view token, int64_t maxAge);

/// True if `url` (an Origin or a Referer) belongs to this site.
bool isSameOrigin(const Site& site, const Request& req, std::string_view url);

} // namespace hydra::server

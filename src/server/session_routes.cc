#include "server/session_routes.hh"

#include "db/users.hh"
#include "db/web_auth.hh"
#include "server/auth.hh"
#include "server/forms.hh"
#include "server/json_objects.hh"
#include "server/layout.hh"
#include "server/permissions.hh"
#include "server/respond.hh"
#include "server/site.hh"
#include "util/logging.hh"
#include "util/password.hh"
#include "util/secrets.hh"
#include "util/strings.hh"

#include <nlohmann/json.hpp>

namespace hydra::server {

namespace {

struct Credentials {
    std::string username, password, next;
};

// A JSON body {username, password} as Hydra's API clients send it, else the login form.
Credentials credentialsOf(const Request& req)
{
    Credentials c;
    auto type = req.header("content-type");
    if (type.find("json") != std::string::npos) {
        auto body = nlohmann::json::parse(req.body, nullptr, /*allow_exceptions=*/false);
        if (!body.is_object()) throw HttpError(400, "the login body is not a JSON object");
        auto field = [&](const char* name) {
            auto it = body.find(name);
            if (it == body.end() || !it->is_string())
                throw HttpError(400, std::string("the login body needs the string field \"") + name + "\"");
            return it->get<std::string>();
        };
        c.username = field("username");
        c.password = field("password");
        return c;
    }
    auto fields = formFields(req);
    c.username = formField(fields, "username").value_or("");
    c.password = formField(fields, "password").value_or("");
    c.next = formField(fields, "next").value_or("");
    if (c.username.empty() || c.password.empty()) throw HttpError(400, "give a user name and a password");
    return c;
}

// Only a path of this site: an absolute URL in `next` would make the login page an open
// redirect.
std::string safeNext(const Site& site, const std::string& next)
{
    if (next.starts_with('/') && !next.starts_with("//") && next.find('\\') == std::string::npos) return next;
    return site.url("/");
}

// The address failed logins are counted by. Behind a reverse proxy on this machine every
// request comes from loopback: the proxy's X-Forwarded-For then names the client (its last
// entry, the one the proxy itself added; earlier ones are whatever the client claimed).
std::string clientAddress(const Request& req)
{
    bool viaLocalProxy = req.remoteAddr == "::1" || req.remoteAddr.starts_with("127.");
    auto forwarded = req.header("x-forwarded-for");
    if (!viaLocalProxy || forwarded.empty()) return req.remoteAddr;
    auto comma = forwarded.rfind(',');
    auto last = trim(comma == std::string::npos ? std::string_view(forwarded)
                                                : std::string_view(forwarded).substr(comma + 1));
    return last.empty() ? req.remoteAddr : std::string(last);
}

// The Argon2 check is slow on purpose, so it runs without holding a database connection; an
// unknown user costs the same check, so that timing does not tell which names exist.
bool passwordMatches(const Site& site, const Credentials& c)
{
    static const std::string unknownUserHash = hashPassword(randomToken());
    auto stored = site.read([&](auto& t) { return db::userPasswordHash(t, c.username); });
    auto check = checkPassword(c.password, stored.value_or(unknownUserHash));
    if (!stored || !check.valid) return false;
    if (check.rehash)
        site.write(
            [&](auto& t) { db::replacePasswordHash(t, c.username, *stored, hashPassword(c.password)); });
    return true;
}

Html loginForm(const Site& site, std::string_view next, std::string_view message)
{
    Html h;
    if (!message.empty()) h.raw("<p class=\"error\" role=\"alert\">").text(message).raw("</p>");
    h.raw("<form class=\"login\" method=\"post\" action=\"").text(site.url("/login")).raw("\">");
    h.raw("<input type=\"hidden\" name=\"next\" value=\"").text(next).raw("\">");
    h.raw("<p><label>User name <input name=\"username\" autocomplete=\"username\" required "
          "autofocus></label></p>"
          "<p><label>Password <input name=\"password\" type=\"password\" autocomplete=\"current-password\" "
          "required></label></p><p><button type=\"submit\">Log in</button></p></form>");
    return h;
}

Response userAnswer(const Site& site, const Request& req, const std::string& username, int status)
{
    auto user = site.read([&](auto& t) { return db::findWebUser(t, username); });
    if (!user) throw HttpError(403, "This page requires you to sign in.");
    if (wantsJson(req)) return jsonResponse(toJson(*user), status);
    Html h;
    h.raw("<p>Logged in as <strong>").text(user->userName).raw("</strong>");
    if (!user->fullName.empty()) h.raw(" (").text(user->fullName).raw(")");
    h.raw(".</p><p>Roles: ");
    if (user->roles.empty()) h.text("none");
    for (size_t i = 0; i < user->roles.size(); ++i) h.text(i ? ", " : "").text(user->roles[i]);
    h.raw("</p>");
    return pageResponse(site, "Current user", h, status);
}

} // namespace

Response loginPage(const Site& site, const Request& req)
{
    return pageResponse(site, "Log in",
                        loginForm(site, safeNext(site, req.queryValue("next").value_or("/")), ""));
}

Response loginAction(const Site& site, const Request& req)
{
    auto c = credentialsOf(req);
    auto& throttle = site.loginThrottle();
    auto client = clientAddress(req);
    auto who = oneLine(c.username); // a name with a newline must not forge a log line
    if (auto wait = throttle.retryAfter(client)) {
        log::warn("login of '{}' from {} refused: too many failed logins, retry in {} s", who, client, *wait);
        auto r = wantsJson(req) || c.next.empty()
                     ? jsonResponse({{"error", "too many failed logins; try again later"}}, 429)
                     : pageResponse(site, "Log in",
                                    loginForm(site, c.next, "Too many failed logins; try again later."), 429);
        r.headers.emplace_back("Retry-After", std::to_string(*wait));
        return r;
    }
    if (!passwordMatches(site, c)) {
        throttle.recordFailure(client);
        log::info("login of '{}' from {} failed: bad user name or password", who, client);
        if (!wantsJson(req) && !c.next.empty())
            return pageResponse(site, "Log in", loginForm(site, c.next, "Bad username or password."), 403);
        throw HttpError(403, "Bad username or password.");
    }
    throttle.recordSuccess(client);
    auto token = randomToken();
    auto now = site.now();
    site.write([&](auto& t) {
        db::purgeExpiredSessions(t, now);
        db::createSession(t, sha256Hex(token), c.username, randomToken(), now, now + sessionLifetimeSeconds);
    });
    log::info("user '{}' logged in from {}", who, client);
    Response r = !c.next.empty() && !wantsJson(req) ? Response::redirect(302, safeNext(site, c.next))
                                                    : userAnswer(site, req, c.username, 302);
    if (r.status == 302 && c.next.empty())
        r.headers.emplace_back("Location", site.absoluteUrl("/current-user"));
    r.headers.emplace_back("Set-Cookie", sessionCookie(site, req, token, sessionLifetimeSeconds));
    return r;
}

Response logoutAction(const Site& site, const Request& req)
{
    if (req.user && req.user->via == Identity::Via::Session) {
        site.write([&](auto& t) { db::deleteSession(t, req.user->sessionHash); });
        log::info("user '{}' logged out", req.user->username);
    }
    Response r;
    r.status = wantsJson(req) || req.header("content-type").empty() ? 204 : 302;
    if (r.status == 302) r.headers.emplace_back("Location", site.absoluteUrl("/"));
    r.headers.emplace_back("Set-Cookie", sessionCookie(site, req, "", 0));
    return r;
}

Response currentUserPage(const Site& site, const Request& req)
{
    return userAnswer(site, req, requireUser(req).username, 200);
}

} // namespace hydra::server

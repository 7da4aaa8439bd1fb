#include "server/app.hh"

#include "server/account_menu.hh"
#include "server/auth.hh"
#include "server/html.hh"
#include "server/layout.hh"
#include "server/respond.hh"
#include "server/site.hh"
#include "util/logging.hh"
#include "util/strings.hh"

#include <pqxx/except>

namespace hydra::server {

namespace {

Response errorResponse(const Site& site, const Request& req, int status, const std::string& message)
{
    Response r;
    // Scripts call /api/* without asking for JSON; its errors are JSON like its answers.
    if (wantsJson(req) || req.path.starts_with("/api/")) {
        r = jsonResponse({{"error", message}}, status);
    } else {
        Html h;
        h.raw("<p>").text(message).raw("</p>");
        if (status == 403 && !req.user)
            h.raw("<p>")
                .link(site.url("/login") + "?next=" + percentEncode(site.url(req.path)), "Log in")
                .raw("</p>");
        r = pageResponse(site,
                         status == 404   ? "Not found"
                         : status == 400 ? "Bad request"
                         : status == 403 ? "Forbidden"
                                         : "Error",
                         h, status);
    }
    // A script whose token was refused learns how to authenticate.
    if (status == 401) r.headers.emplace_back("WWW-Authenticate", "Bearer");
    return r;
}

// Who the sender is, and whether it may reach the route at all; the handler checks roles.
void authorize(const Site& site, Request& req, Access access)
{
    if (access == Access::Webhook) return;
    authenticate(site, req);
    switch (access) {
    case Access::Public:
        if (site.config().isPrivate && !req.user)
            throw HttpError(403, "This Hydra is private: log in to see it.");
        break;
    case Access::Action:
        if (!req.user) throw HttpError(403, "This page requires you to sign in.");
        break;
    case Access::Open:
    case Access::Webhook: break;
    }
    checkSameSite(site, req, access);
}

// `path` without base_uri's path, when it starts with it.
std::string belowBase(const ServerConfig& config, std::string path)
{
    const auto& base = config.basePath;
    if (!base.empty() && path.starts_with(base) && (path.size() == base.size() || path[base.size()] == '/'))
        return path.size() == base.size() ? "/" : path.substr(base.size());
    return path;
}

Response dispatch(const Site& site, const std::vector<Route>& routes, Request& req)
{
    req.path = belowBase(site.config(), req.path);
    auto match = matchRoute(routes, req.method, req.path);
    // Only a forge's push event may be larger than the common limit (httplib allowed it).
    if (req.body.size() > site.config().maxRequestBody &&
        (!match.route || match.route->access != Access::Webhook))
        throw HttpError(413, "the request body is larger than this page accepts");
    if (!match.route) {
        if (match.pathKnown) throw HttpError(405, "method " + req.method + " is not allowed here");
        throw HttpError(404, "there is no page at " + req.path);
    }
    req.params = std::move(match.params);
    authorize(site, req, match.route->access);
    return match.route->handler(site, req);
}

} // namespace

Response handleRequest(const Site& site, const std::vector<Route>& routes, Request req)
{
    Response res;
    try {
        res = dispatch(site, routes, req);
    } catch (const HttpRedirect& e) {
        res = Response::redirect(e.status(), e.location());
    } catch (const HttpError& e) {
        res = errorResponse(site, req, e.status(), e.what());
    } catch (const pqxx::broken_connection& e) {
        log::warn("{} {}: database unreachable: {}", req.method, req.path, oneLine(e.what()));
        res = errorResponse(site, req, 503, "the database cannot be reached; try again soon");
    } catch (const std::exception& e) {
        log::error("{} {}: {}", req.method, req.path, oneLine(e.what()));
        res = errorResponse(site, req, 500, "internal error; it has been logged");
    }
    fillAccountMenu(site, req, res);
    res.headers.emplace_back("Vary", "Accept");
    return res;
}

} // namespace hydra::server

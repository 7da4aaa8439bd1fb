#include "server/app.hh"

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
    if (wantsJson(req)) return jsonResponse({{"error", message}}, status);
    Html h;
    h.raw("<p>").text(message).raw("</p>");
    const char* title = status == 404   ? "Not found"
                        : status == 400 ? "Bad request"
                        : status == 403 ? "Forbidden"
                                        : "Error";
    return pageResponse(site, title, h, status);
}

Response dispatch(const Site& site, const std::vector<Route>& routes, Request& req)
{
    const auto& base = site.config().basePath;
    if (!base.empty() && req.path.starts_with(base) &&
        (req.path.size() == base.size() || req.path[base.size()] == '/'))
        req.path = req.path.size() == base.size() ? "/" : req.path.substr(base.size());
    auto match = matchRoute(routes, req.method, req.path);
    if (!match.route) {
        if (match.pathKnown) throw HttpError(405, "method " + req.method + " is not allowed here");
        throw HttpError(404, "there is no page at " + req.path);
    }
    // Until accounts exist, nobody is logged in: a private site shows only its style sheet.
    if (site.config().isPrivate && req.path != "/static/style.css")
        throw HttpError(403, "this Hydra is private: log in to see it");
    if (match.route->access != Access::Public) throw HttpError(403, "you are not allowed to do this");
    req.params = std::move(match.params);
    return match.route->handler(site, req);
}

} // namespace

Response handleRequest(const Site& site, const std::vector<Route>& routes, Request req)
{
    Response res;
    try {
        res = dispatch(site, routes, req);
    } catch (const HttpError& e) {
        res = errorResponse(site, req, e.status(), e.what());
    } catch (const pqxx::broken_connection& e) {
        log::warn("{} {}: database unreachable: {}", req.method, req.path, oneLine(e.what()));
        res = errorResponse(site, req, 503, "the database cannot be reached; try again soon");
    } catch (const std::exception& e) {
        log::error("{} {}: {}", req.method, req.path, oneLine(e.what()));
        res = errorResponse(site, req, 500, "internal error; it has been logged");
    }
    res.headers.emplace_back("Vary", "Accept");
    return res;
}

} // namespace hydra::server

#include "server/search_routes.hh"

#include "db/web_builds.hh"
#include "db/web_projects.hh"
#include "db/web_search.hh"
#include "server/json_objects.hh"
#include "server/layout.hh"
#include "server/respond.hh"
#include "server/site.hh"
#include "server/views.hh"

#include <algorithm>

namespace hydra::server {

namespace {

constexpr size_t minQueryLength = 2;
constexpr int64_t defaultLimit = 10;
constexpr int64_t maxLimit = 50;

/// What a search shows, loaded.
struct Found {
    std::vector<db::web::Project> projects;
    std::vector<db::web::Jobset> jobsets;
    std::vector<db::web::Build> builds, buildsDrv;
};

// Hydra's rule: names and store paths only, so that no query is a pattern of its own.
std::string checkedQuery(const Request& req)
{
    auto raw = req.queryValue("query").value_or("");
    auto first = raw.find_first_not_of(" \t\r\n");
    std::string q =
        first == std::string::npos ? "" : raw.substr(first, raw.find_last_not_of(" \t\r\n") - first + 1);
    if (q.empty()) throw HttpError(400, "the query is empty");
    if (q.size() < minQueryLength)
        throw HttpError(400, "the query ‘" + q + "’ is too short (2 characters at least)");
    auto allowed = [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
               c == '-' || c == '/' || c == '.';
    };
    if (!std::all_of(q.begin(), q.end(), allowed))
        throw HttpError(400, "the query has a character other than letters, digits and _ - / .");
    return q;
}

Found runSearch(const Site& site, const std::string& q, int64_t limit)
{
    return site.read([&](auto& t) {
        auto hits = db::web::search(t, q, limit);
        Found f;
        f.projects = db::web::findProjects(t, hits.projects);
        f.jobsets = db::web::findJobsets(t, hits.jobsets);
        f.builds = db::web::loadBuilds(t, hits.builds);
        f.buildsDrv = db::web::loadBuilds(t, hits.buildsDrv);
        return f;
    });
}

template <typename T> nlohmann::json jsonList(const std::vector<T>& items)
{
    nlohmann::json list = nlohmann::json::array();
    for (const auto& i : items) list.push_back(toJson(i));
    return list;
}

Html foundHtml(const Site& site, const Found& f)
{
    Html h;
    h.raw("<h2>Projects</h2><ul>");
    for (const auto& p : f.projects) h.raw("<li>").link(site.link({"project", p.name}), p.name).raw("</li>");
    h.raw("</ul><h2>Jobsets</h2><ul>");
    for (const auto& j : f.jobsets)
        h.raw("<li>").link(site.link({"jobset", j.project, j.name}), j.project + ":" + j.name).raw("</li>");
    h.raw("</ul><h2>Builds with this output path</h2>").append(buildTable(site, f.builds));
    h.raw("<h2>Builds of this derivation</h2>").append(buildTable(site, f.buildsDrv));
    return h;
}

} // namespace

Response searchPage(const Site& site, const Request& req)
{
    auto q = checkedQuery(req);
    auto limit = countParam(req, "limit", defaultLimit, maxLimit);
    auto found = runSearch(site, q, limit);
    if (wantsJson(req))
        return jsonResponse({{"projects", jsonList(found.projects)},
                             {"jobsets", jsonList(found.jobsets)},
                             {"builds", jsonList(found.builds)},
                             {"buildsdrv", jsonList(found.buildsDrv)}});
    return pageResponse(site, "Search for " + q, foundHtml(site, found));
}

} // namespace hydra::server

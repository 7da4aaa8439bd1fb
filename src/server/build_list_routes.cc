#include "server/build_list_routes.hh"

#include "db/web_builds.hh"
#include "db/web_jobs.hh"
#include "db/web_projects.hh"
#include "server/jobset_routes.hh"
#include "server/json_objects.hh"
#include "server/layout.hh"
#include "server/respond.hh"
#include "server/site.hh"
#include "server/views.hh"

namespace hydra::server {

namespace {

constexpr int64_t buildsPerPage = 20;

ResolvedScope resolveProject(const Site& site, const Request& req)
{
    const auto& name = req.param("project");
    auto exists = site.read([&](auto& t) { return db::web::findProject(t, name).has_value(); });
    if (!exists) throw HttpError(404, "project ‘" + name + "’ does not exist");
    return {{name, std::nullopt, std::nullopt}, name, "/project/" + percentEncode(name)};
}

} // namespace

ResolvedScope resolveBuildScope(const Site& site, const Request& req, BuildListLevel level)
{
    switch (level) {
    case BuildListLevel::Farm: return {};
    case BuildListLevel::Project: return resolveProject(site, req);
    case BuildListLevel::Jobset: {
        auto j = requireJobset(site, req);
        return {{std::nullopt, j.id, std::nullopt},
                j.project + ":" + j.name,
                "/jobset/" + percentEncode(j.project) + "/" + percentEncode(j.name)};
    }
    case BuildListLevel::Job: {
        auto j = requireJobset(site, req);
        const auto& job = req.param("job");
        return {{std::nullopt, j.id, job},
                j.project + ":" + j.name + ":" + job,
                "/job/" + percentEncode(j.project) + "/" + percentEncode(j.name) + "/" + percentEncode(job)};
    }
    }
    return {};
}

namespace {

std::string noBuildMessage(const ResolvedScope& s, LatestKind kind, const std::optional<std::string>& system)
{
    std::string where = s.name.empty() ? std::string() : " of ‘" + s.name + "’";
    switch (kind) {
    case LatestKind::ForSystem:
        return "there is no successful build" + where + " for platform ‘" + *system + "’";
    case LatestKind::FinishedEval:
        return "there is no successful build" + where + " in a finished evaluation";
    case LatestKind::Successful: break;
    }
    return "there is no successful build" + where;
}

} // namespace

Handler latestBuildRedirect(BuildListLevel level, LatestKind kind)
{
    return [level, kind](const Site& site, const Request& req) {
        auto s = resolveBuildScope(site, req, level);
        std::optional<std::string> system;
        if (kind == LatestKind::ForSystem) system = req.param("system");
        auto id = site.read([&](auto& t) {
            return db::web::latestSuccessful(t, s.scope, system, kind == LatestKind::FinishedEval);
        });
        if (!id) throw HttpError(404, noBuildMessage(s, kind, system));
        return Response::redirect(302, site.absoluteUrl("/build/" + std::to_string(*id) + restOfPath(req)));
    };
}

Handler allBuildsPage(BuildListLevel level)
{
    return [level](const Site& site, const Request& req) {
        auto s = resolveBuildScope(site, req, level);
        int64_t page = pageParam(req);
        auto [builds, total] = site.read([&](auto& t) {
            auto found = db::web::finishedBuilds(t, s.scope, (page - 1) * buildsPerPage, buildsPerPage);
            return std::make_pair(db::web::loadBuilds(t, found.ids), found.total);
        });
        if (wantsJson(req)) {
            nlohmann::json list = nlohmann::json::array();
            for (const auto& b : builds) list.push_back(toJson(b));
            return pagedJsonResponse("builds", std::move(list), page, total, buildsPerPage);
        }
        Html h;
        h.append(buildTable(site, builds)).append(pager(site, s.path + "/all", page, total, buildsPerPage));
        return pageResponse(site, s.name.empty() ? std::string("All builds") : "All builds of " + s.name, h);
    };
}

} // namespace hydra::server

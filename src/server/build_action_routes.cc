#include "server/build_action_routes.hh"

#include "db/build_actions.hh"
#include "server/action_answer.hh"
#include "server/permissions.hh"
#include "server/respond.hh"
#include "server/site.hh"
#include "util/logging.hh"

#include <array>
#include <fmt/format.h>

namespace hydra::server {

namespace {

struct TargetBuild {
    int64_t id = 0;
    std::string project;
    std::string page; ///< where to go back to
};

// The build of the route's :id and its project, whose members may act on it.
TargetBuild targetBuild(const Site& site, const Request& req)
{
    auto id = idParam(req, "id", "build id");
    auto project = site.read([&](auto& t) { return db::projectOfBuild(t, id); });
    if (!project) throw HttpError(404, fmt::format("build {} does not exist", id));
    return {id, *project, site.link({"build", std::to_string(id)})};
}

void logAction(const Request& req, const char* what, int64_t id)
{
    log::info("build {}: {} by {}", id, what, req.user ? req.user->username : std::string("?"));
}

} // namespace

Response buildRestartAction(const Site& site, const Request& req)
{
    auto b = targetBuild(site, req);
    requireRole(site, req, "restart-jobs", b.project);
    std::array ids{b.id};
    auto done = site.write([&](auto& t) { return db::restartBuilds(t, ids); });
    if (done.empty()) throw HttpError(409, "This build cannot be restarted: it has not finished.");
    logAction(req, "restarted", b.id);
    return actionAnswer(site, req, b.page, {{"restarted", done}});
}

Response buildCancelAction(const Site& site, const Request& req)
{
    auto b = targetBuild(site, req);
    requireRole(site, req, "cancel-build", b.project);
    std::array ids{b.id};
    auto done = site.write([&](auto& t) { return db::cancelBuilds(t, ids, site.now()); });
    if (done.empty()) throw HttpError(409, "This build cannot be cancelled: it has already finished.");
    logAction(req, "cancelled", b.id);
    return actionAnswer(site, req, b.page, {{"cancelled", done}});
}

Response buildBumpAction(const Site& site, const Request& req)
{
    auto b = targetBuild(site, req);
    requireRole(site, req, "bump-to-front", b.project);
    std::array ids{b.id};
    auto done = site.write([&](auto& t) { return db::bumpBuilds(t, ids, site.now()); });
    if (done.empty()) throw HttpError(409, "This build cannot be bumped: it is not queued.");
    logAction(req, "bumped to the front of the queue", b.id);
    return actionAnswer(site, req, b.page, {{"bumped", done}});
}

Response buildKeepAction(const Site& site, const Request& req)
{
    const auto& value = req.param("keep");
    if (value != "0" && value != "1")
        throw HttpError(400,
                        fmt::format("‘{}’ is not 0 or 1 (keep/1 keeps the build, keep/0 no longer)", value));
    auto b = targetBuild(site, req);
    requireProjectRights(site, req, b.project);
    bool keep = value == "1";
    if (!site.write([&](auto& t) { return db::setBuildKeep(t, b.id, keep); }))
        throw HttpError(404, fmt::format("build {} does not exist", b.id));
    logAction(req, keep ? "kept" : "no longer kept", b.id);
    return actionAnswer(site, req, b.page, {{"keep", keep ? 1 : 0}});
}

} // namespace hydra::server

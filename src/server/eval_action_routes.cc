#include "server/eval_action_routes.hh"

#include "db/build_actions.hh"
#include "server/action_answer.hh"
#include "server/permissions.hh"
#include "server/respond.hh"
#include "server/site.hh"
#include "util/logging.hh"

#include <fmt/format.h>

namespace hydra::server {

namespace {

// Checks the role against the evaluation's project, runs `act` (returning how many builds it
// changed, or nullopt when the evaluation vanished meanwhile) and answers {key: count}.
template <typename F>
Response evalAction(const Site& site, const Request& req, std::string_view role, const char* key, F&& act)
{
    auto id = idParam(req, "id", "evaluation id");
    auto project = site.read([&](auto& t) { return db::projectOfEval(t, id); });
    if (!project) throw HttpError(404, fmt::format("evaluation {} does not exist", id));
    requireRole(site, req, role, *project);
    auto n = site.write([&](auto& t) { return act(t, id); });
    if (!n) throw HttpError(404, fmt::format("evaluation {} does not exist", id));
    log::info("eval {}: {} {} builds, by {}", id, key, *n, req.user ? req.user->username : std::string("?"));
    return actionAnswer(site, req, site.link({"eval", std::to_string(id)}), {{key, *n}});
}

} // namespace

Response evalRestartFailedAction(const Site& site, const Request& req)
{
    return evalAction(site, req, "restart-jobs", "restarted", [](auto& t, int64_t id) {
        return db::restartEvalBuilds(t, id, db::EvalRestart::Failed);
    });
}

Response evalRestartAbortedAction(const Site& site, const Request& req)
{
    return evalAction(site, req, "restart-jobs", "restarted", [](auto& t, int64_t id) {
        return db::restartEvalBuilds(t, id, db::EvalRestart::Aborted);
    });
}

Response evalCancelAction(const Site& site, const Request& req)
{
    return evalAction(site, req, "cancel-build", "cancelled",
                      [&](auto& t, int64_t id) { return db::cancelEvalBuilds(t, id, site.now()); });
}

Response evalBumpAction(const Site& site, const Request& req)
{
    return evalAction(site, req, "bump-to-front", "bumped",
                      [&](auto& t, int64_t id) { return db::bumpEvalBuilds(t, id, site.now()); });
}

} // namespace hydra::server

#include "server/push_routes.hh"

#include "db/jobset_triggers.hh"
#include "server/action_answer.hh"
#include "server/forms.hh"
#include "server/permissions.hh"
#include "server/respond.hh"
#include "server/site.hh"
#include "util/logging.hh"

#include <algorithm>
#include <fmt/format.h>
#include <set>

namespace hydra::server {

namespace {

std::vector<std::string> splitCommas(std::string_view s)
{
    std::vector<std::string> out;
    while (!s.empty()) {
        auto comma = s.find(',');
        auto part = s.substr(0, comma);
        if (!part.empty()) out.emplace_back(part);
        s = comma == std::string_view::npos ? std::string_view{} : s.substr(comma + 1);
    }
    return out;
}

db::JobsetRef parseJobsetName(const std::string& s)
{
    auto colon = s.find(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == s.size() ||
        s.find(':', colon + 1) != std::string::npos)
        throw HttpError(400, fmt::format("‘{}’ in ‘jobsets’ is not PROJECT:JOBSET", s));
    return {s.substr(0, colon), s.substr(colon + 1)};
}

// Every jobset is checked before any is triggered: a request refused for one changes nothing.
void requireEvalRights(const Site& site, const Request& req, const std::vector<db::JobsetRef>& jobsets)
{
    std::set<std::string> projects;
    for (const auto& j : jobsets) projects.insert(j.project);
    for (const auto& p : projects) requireRole(site, req, "eval-jobset", p);
}

std::vector<std::string> triggerAll(const Site& site, const Request& req,
                                    const std::vector<db::JobsetRef>& jobsets, bool force)
{
    std::vector<std::string> names;
    site.write([&](auto& t) {
        for (const auto& j : jobsets)
            if (db::triggerJobset(t, j, site.now(), force)) names.push_back(j.str());
    });
    for (const auto& n : names)
        log::info("jobset {}: evaluation requested{} by {}", n, force ? " (forced)" : "",
                  req.user ? req.user->username : std::string("?"));
    return names;
}

void addOnce(std::vector<db::JobsetRef>& list, const db::JobsetRef& j)
{
    if (std::find(list.begin(), list.end(), j) == list.end()) list.push_back(j);
}

Response push(const Site& site, const Request& req)
{
    // As Hydra: `force` counts when present, whatever its value.
    bool force = req.query.contains("force");
    std::vector<db::JobsetRef> named, toTrigger;
    for (const auto& s : splitCommas(req.queryValue("jobsets").value_or("")))
        addOnce(named, parseJobsetName(s));
    auto repos = splitCommas(req.queryValue("repos").value_or(""));
    site.read([&](auto& t) {
        for (const auto& j : named) {
            auto info = db::findJobsetForTrigger(t, j);
            if (!info) throw HttpError(404, fmt::format("jobset {} does not exist", j.str()));
            // A disabled jobset (or one of a disabled project) is triggered only when forced.
            if (info->enabled || force) addOnce(toTrigger, j);
        }
        for (const auto& r : repos)
            for (const auto& j : db::jobsetsWithInputValue(t, r)) addOnce(toTrigger, j);
    });
    requireEvalRights(site, req, named);
    requireEvalRights(site, req, toTrigger);
    return jsonResponse({{"jobsetsTriggered", triggerAll(site, req, toTrigger, force)}});
}

} // namespace

Response jobsetTriggerAction(const Site& site, const Request& req)
{
    db::JobsetRef ref{req.param("project"), req.param("jobset")};
    auto fields = formFields(req);
    bool force = req.query.contains("force") || fields.contains("force");
    auto info = site.read([&](auto& t) { return db::findJobsetForTrigger(t, ref); });
    if (!info) throw HttpError(404, fmt::format("jobset {} does not exist", ref.str()));
    requireRole(site, req, "eval-jobset", ref.project);
    if (!info->enabled && !force)
        throw HttpError(409, fmt::format("jobset {} is disabled, or its project is; force the evaluation to "
                                         "trigger it anyway",
                                         ref.str()));
    auto names = triggerAll(site, req, {ref}, force);
    return actionAnswer(site, req, site.link({"jobset", ref.project, ref.jobset}),
                        {{"jobsetsTriggered", names}});
}

Response apiPush(const Site& site, const Request& req)
{
    // Scripts call /api without asking for JSON: their errors are JSON too.
    try {
        return push(site, req);
    } catch (const HttpError& e) {
        return jsonResponse({{"error", e.what()}}, e.status());
    }
}

} // namespace hydra::server

#include "server/api_routes.hh"

#include "db/web_api.hh"
#include "db/web_projects.hh"
#include "server/respond.hh"
#include "server/site.hh"

namespace hydra::server {

namespace {

// Hydra takes any `nr`; a bound keeps one request from reading the whole Builds table.
constexpr int64_t maxNr = 1000;

int64_t requiredNr(const Request& req)
{
    if (!req.queryValue("nr")) throw HttpError(400, "the parameter ‘nr’ is required");
    return countParam(req, "nr", 1, maxNr);
}

// Hydra's buildToHash: the status of a finished build, the priority of a queued one.
nlohmann::json apiJson(const db::web::ApiBuild& b)
{
    nlohmann::json o = {{"id", b.id},
                        {"project", b.project},
                        {"jobset", b.jobset},
                        {"job", b.job},
                        {"system", b.system},
                        {"nixname", b.nixName},
                        {"finished", b.finished ? 1 : 0},
                        {"timestamp", b.timestamp}};
    if (b.finished)
        o["buildstatus"] = b.buildStatus ? nlohmann::json(*b.buildStatus) : nlohmann::json();
    else
        o["priority"] = b.priority;
    return o;
}

Response apiList(const std::vector<db::web::ApiBuild>& builds)
{
    nlohmann::json list = nlohmann::json::array();
    for (const auto& b : builds) list.push_back(apiJson(b));
    return jsonResponse(list);
}

nlohmann::json orNull(const std::optional<int64_t>& v)
{
    return v ? nlohmann::json(*v) : nlohmann::json();
}

nlohmann::json apiJson(const db::web::Jobset& j)
{
    return {{"project", j.project},
            {"name", j.name},
            {"nrscheduled", j.nrScheduled},
            {"nrsucceeded", j.nrSucceeded},
            {"nrfailed", j.nrFailed},
            {"nrtotal", j.nrTotal},
            {"lastcheckedtime", orNull(j.lastCheckedTime)},
            {"starttime", orNull(j.startTime)},
            {"checkinterval", j.checkInterval},
            {"triggertime", orNull(j.triggerTime)},
            {"fetcherrormsg", j.fetchErrorMsg.empty() ? nlohmann::json() : nlohmann::json(j.fetchErrorMsg)},
            {"errortime", orNull(j.errorTime)},
            {"haserrormsg", !j.errorMsg.empty()}};
}

} // namespace

Response apiLatestBuilds(const Site& site, const Request& req)
{
    return jsonErrors([&] {
        auto nr = requiredNr(req);
        db::web::ApiBuildFilter filter{req.queryValue("project"), req.queryValue("jobset"),
                                       req.queryValue("job"), req.queryValue("system")};
        return apiList(site.read([&](auto& t) { return db::web::latestFinishedBuilds(t, filter, nr); }));
    });
}

Response apiQueue(const Site& site, const Request& req)
{
    return jsonErrors([&] {
        auto nr = requiredNr(req);
        return apiList(site.read([&](auto& t) { return db::web::queuedBuilds(t, nr); }));
    });
}

Response apiNrQueue(const Site& site, const Request&)
{
    return textResponse(std::to_string(site.read([](auto& t) { return db::web::queuedBuildCount(t); })));
}

Response apiJobsets(const Site& site, const Request& req)
{
    return jsonErrors([&] {
        auto project = req.queryValue("project");
        if (!project) throw HttpError(400, "the parameter ‘project’ is required");
        auto jobsets = site.read([&](auto& t) {
            std::optional<std::vector<db::web::Jobset>> found;
            if (db::web::findProject(t, *project)) found = db::web::projectJobsets(t, *project);
            return found;
        });
        if (!jobsets) throw HttpError(404, "project ‘" + *project + "’ does not exist");
        nlohmann::json list = nlohmann::json::array();
        for (const auto& j : *jobsets) list.push_back(apiJson(j));
        return jsonResponse(list);
    });
}

} // namespace hydra::server

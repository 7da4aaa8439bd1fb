#include "server/job_routes.hh"

#include "db/web_builds.hh"
#include "db/web_jobs.hh"
#include "server/jobset_routes.hh"
#include "server/json_objects.hh"
#include "server/layout.hh"
#include "server/respond.hh"
#include "server/site.hh"
#include "server/views.hh"

namespace hydra::server {

namespace {

constexpr int64_t lastBuildsShown = 10;
constexpr int64_t queuedBuildsShown = 100;
// A series is drawn from its newest values; `?nr=` asks for more, up to the maximum.
constexpr int64_t seriesDefault = 1000;
constexpr int64_t seriesMax = 10000;

nlohmann::json buildList(const std::vector<db::web::Build>& builds)
{
    nlohmann::json list = nlohmann::json::array();
    for (const auto& b : builds) list.push_back(toJson(b));
    return list;
}

Html jobLinks(const Site& site, const db::web::Jobset& js, const std::string& job)
{
    Html h;
    h.raw("<p class=\"links\">");
    for (const char* what :
         {"latest", "latest-finished", "all", "shield", "build-times", "closure-sizes", "output-sizes"}) {
        h.link(site.link({"job", js.project, js.name, job, what}), what);
        h.raw(" ");
    }
    return h.raw("</p>");
}

nlohmann::json seriesJson(const std::vector<db::web::SeriesPoint>& points, bool metric)
{
    nlohmann::json out = nlohmann::json::array();
    for (const auto& p : points) {
        nlohmann::json o = {{"id", p.build}, {"timestamp", p.timestamp}};
        if (metric) {
            o["value"] = p.value;
            o["unit"] = p.unit ? nlohmann::json(*p.unit) : nlohmann::json();
        } else {
            o["value"] = static_cast<int64_t>(p.value);
        }
        out.push_back(std::move(o));
    }
    return out;
}

Response seriesResponse(const Site& site, const Request& req, db::web::Series what)
{
    auto js = requireJobset(site, req);
    const auto& job = req.param("job");
    auto nr = countParam(req, "nr", seriesDefault, seriesMax);
    auto points = site.read([&](auto& t) { return db::web::jobSeries(t, js.id, job, what, nr); });
    return jsonResponse(seriesJson(points, false));
}

} // namespace

Response jobPage(const Site& site, const Request& req)
{
    auto js = requireJobset(site, req);
    const auto& job = req.param("job");
    auto [last, queued] = site.read([&](auto& t) {
        auto found = db::web::jobBuilds(t, js.id, job, lastBuildsShown, queuedBuildsShown);
        return std::make_pair(db::web::loadBuilds(t, found.finished), db::web::loadBuilds(t, found.queued));
    });
    if (wantsJson(req))
        return jsonResponse({{"project", js.project},
                             {"jobset", js.name},
                             {"job", job},
                             {"lastbuilds", buildList(last)},
                             {"queuedbuilds", buildList(queued)}});
    Html h;
    h.append(jobLinks(site, js, job));
    if (!queued.empty()) h.raw("<h2>Queued builds</h2>").append(buildTable(site, queued));
    h.raw("<h2>Latest builds</h2>");
    if (last.empty())
        h.raw("<p>This job has no finished builds.</p>");
    else
        h.append(buildTable(site, last));
    return pageResponse(site, "Job " + js.project + ":" + js.name + ":" + job, h);
}

Response jobShield(const Site& site, const Request& req)
{
    auto js = requireJobset(site, req);
    const auto& job = req.param("job");
    auto status = site.read([&](auto& t) { return db::web::lastFinishedStatus(t, js.id, job); });
    if (!status)
        throw HttpError(404, "job ‘" + js.project + ":" + js.name + ":" + job + "’ has no finished build");
    // Hydra's mapping: only success is green and only a cancellation yellow.
    bool ok = *status == 0, cancelled = *status == 4;
    return jsonResponse({{"schemaVersion", 1},
                         {"label", "hydra build"},
                         {"color", ok          ? "green"
                                   : cancelled ? "yellow"
                                               : "red"},
                         {"message", ok          ? "passing"
                                     : cancelled ? "cancelled"
                                                 : "failing"}});
}

Response jobMetric(const Site& site, const Request& req)
{
    auto js = requireJobset(site, req);
    const auto& job = req.param("job");
    const auto& name = req.param("name");
    auto nr = countParam(req, "nr", seriesDefault, seriesMax);
    auto points =
        site.read([&](auto& t) { return db::web::jobMetric(t, js.project, js.name, job, name, nr); });
    return jsonResponse(seriesJson(points, true));
}

Response jobBuildTimes(const Site& site, const Request& req)
{
    return seriesResponse(site, req, db::web::Series::BuildTime);
}

Response jobClosureSizes(const Site& site, const Request& req)
{
    return seriesResponse(site, req, db::web::Series::ClosureSize);
}

Response jobOutputSizes(const Site& site, const Request& req)
{
    return seriesResponse(site, req, db::web::Series::OutputSize);
}

} // namespace hydra::server

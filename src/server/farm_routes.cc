#include "server/farm_routes.hh"

#include "db/eval_writer.hh"
#include "db/jobsets.hh"
#include "db/queue_notify.hh"
#include "db/schema.hh"
#include "db/web_builds.hh"
#include "db/web_evals.hh"
#include "db/web_queue.hh"
#include "server/json_objects.hh"
#include "server/layout.hh"
#include "server/respond.hh"
#include "server/site.hh"
#include "server/views.hh"

#include <fmt/format.h>
#include <map>

namespace hydra::server {

namespace {

constexpr int64_t queuePerPage = 100;
constexpr int64_t evalsPerPage = 20;
constexpr int64_t stepsPerPage = 50;
constexpr int64_t maxRunningSteps = 2000; // more than any farm has slots

/// Previous/next links for lists whose length is not counted (that would scan the table): the
/// page fetched one row more than it shows to know whether a next page exists.
/// A step in JSON, with the names of its build (its outputs are not read for these lists).
nlohmann::json stepJson(const db::web::StepOfBuild& s)
{
    auto j = toJson(s.step);
    j.erase("outputs");
    j["project"] = s.project;
    j["jobset"] = s.jobset;
    j["job"] = s.job;
    return j;
}

Html stepLink(const Site& site, const db::web::BuildStep& s)
{
    auto build = std::to_string(s.build);
    auto nr = std::to_string(s.stepNr);
    Html h;
    h.link(site.link({"build", build, "step", nr}), build + "#" + nr);
    return h;
}

Html jobLink(const Site& site, const db::web::StepOfBuild& s)
{
    Html h;
    h.link(site.link({"job", s.project, s.jobset, s.job}), s.project + ":" + s.jobset + ":" + s.job);
    return h;
}

} // namespace

Response queuePage(const Site& site, const Request& req)
{
    int64_t page = pageParam(req);
    bool json = wantsJson(req);
    auto builds = site.read([&](auto& t) {
        auto ids = db::web::queuedBuildIds(t, (page - 1) * queuePerPage, queuePerPage + 1);
        return db::web::loadBuilds(t, ids, json ? db::web::BuildDetail::Full : db::web::BuildDetail::Summary);
    });
    bool hasNext = static_cast<int64_t>(builds.size()) > queuePerPage;
    if (hasNext) builds.pop_back();
    if (json) {
        nlohmann::json list = nlohmann::json::array();
        for (const auto& b : builds) list.push_back(toJson(b));
        return jsonResponse(list);
    }
    Html h;
    if (builds.empty() && page == 1)
        h.raw("<p>The queue is empty.</p>");
    else
        h.append(buildTable(site, builds)).append(nextPager(site, "/queue", page, hasNext));
    return pageResponse(site, "Queue", h,
                        PageOptions{.liveOn = {db::channel::buildQueued, db::channel::buildsAdded,
                                               db::channel::buildStarted, db::channel::buildFinished,
                                               db::channel::buildsRestarted, db::channel::buildsCancelled,
                                               db::channel::buildsBumped, db::channel::buildsDeleted}});
}

Response queueSummaryPage(const Site& site, const Request& req)
{
    auto s = site.read([](auto& t) { return db::web::queueSummary(t); });
    if (wantsJson(req)) {
        nlohmann::json jobsets = nlohmann::json::array(), systems = nlohmann::json::array();
        for (const auto& j : s.jobsets)
            jobsets.push_back({{"project", j.project},
                               {"jobset", j.jobset},
                               {"queued", j.queued},
                               {"oldest", j.oldest},
                               {"newest", j.newest}});
        for (const auto& x : s.systems) systems.push_back({{"system", x.system}, {"queued", x.queued}});
        return jsonResponse({{"jobsets", jobsets}, {"systems", systems}});
    }
    Html h;
    h.raw("<h2>By jobset</h2><div class=\"scroll\"><table><thead><tr><th>Jobset</th><th>Queued</th>"
          "<th>Oldest</th><th>Newest</th></tr></thead><tbody>");
    for (const auto& j : s.jobsets) {
        h.raw("<tr><td>").link(site.link({"jobset", j.project, j.jobset}), j.project + ":" + j.jobset);
        h.raw("</td><td>").number(j.queued).raw("</td><td>").append(timeView(site, j.oldest));
        h.raw("</td><td>").append(timeView(site, j.newest)).raw("</td></tr>");
    }
    h.raw("</tbody></table></div><h2>By system</h2><div class=\"scroll\"><table><thead><tr><th>System</th>"
          "<th>Queued</th></tr></thead><tbody>");
    for (const auto& x : s.systems)
        h.raw("<tr><td>").text(x.system).raw("</td><td>").number(x.queued).raw("</td></tr>");
    h.raw("</tbody></table></div>");
    if (s.jobsets.empty()) h.raw("<p>The queue is empty.</p>");
    return pageResponse(site, "Queue summary", h);
}

Response runningBuildsPage(const Site& site, const Request& req)
{
    auto [steps, builds] = site.read([](auto& t) {
        auto running = db::web::runningSteps(t, maxRunningSteps);
        std::vector<int64_t> ids;
        for (const auto& s : running)
            if (ids.empty() || ids.back() != s.step.build) ids.push_back(s.step.build);
        return std::make_pair(running, db::web::loadBuilds(t, ids));
    });
    if (wantsJson(req)) {
        std::map<int64_t, nlohmann::json> stepsOf;
        for (const auto& s : steps) stepsOf[s.step.build].push_back(stepJson(s));
        nlohmann::json list = nlohmann::json::array();
        for (const auto& b : builds) {
            auto j = toJson(b);
            j["buildsteps"] = stepsOf[b.id]; // ours: which steps run, where, at what stage
            list.push_back(std::move(j));
        }
        return jsonResponse(list);
    }
    Html h;
    h.raw(
        "<div class=\"scroll\"><table><thead><tr><th>Step</th><th>Job</th><th>Derivation</th><th>Machine</th>"
        "<th>Stage</th><th>Since</th></tr></thead><tbody>");
    for (const auto& s : steps) {
        h.raw("<tr><td>").append(stepLink(site, s.step)).raw("</td><td>").append(jobLink(site, s));
        h.raw("</td><td><code>").text(s.step.drvPath).raw("</code></td><td>").text(s.step.machine);
        h.raw("</td><td><span class=\"status s-run\">")
            .text(stepStageText(s.step.busy))
            .raw("</span></td><td>");
        h.append(timeView(site, s.step.startTime)).raw("</td></tr>");
    }
    h.raw("</tbody></table></div>");
    if (steps.empty()) h.raw("<p>No build is running.</p>");
    return pageResponse(site, "Running builds", h,
                        PageOptions{.liveOn = {db::channel::stepStarted, db::channel::stepFinished,
                                               db::channel::buildFinished, db::channel::buildsCancelled}});
}

namespace {

/// Jobs found so far by each jobset's running evaluation, as its eval_progress events told.
std::map<int64_t, int64_t> jobsFound(LiveEvents& events)
{
    namespace c = db::channel;
    std::map<int64_t, int64_t> found;
    events.visit([&](const LiveEvent& e) {
        // A malformed count (not `trace, jobset id, number`) is no count.
        bool wellFormed = e.fields.size() == 3 && e.id(1) > 0 && !e.fields[2].empty() &&
                          e.fields[2].find_first_not_of("0123456789") == std::string::npos &&
                          e.fields[2].size() < 12;
        if (e.channel == c::evalProgress && wellFormed)
            found[e.id(1)] = std::stoll(e.fields[2]);
        else if (e.channel == c::evalStarted || e.channel == c::evalAdded || e.channel == c::evalFailed ||
                 e.channel == c::evalCached)
            found.erase(e.id(1));
    });
    return found;
}

Html runningEvalsView(const Site& site, const std::vector<db::web::RunningEval>& running)
{
    Html h;
    if (running.empty()) return h;
    auto found = jobsFound(site.live());
    h.raw("<section id=\"evaluating\"><h2>Evaluating now</h2><ul>");
    for (const auto& r : running) {
        h.raw("<li>").link(site.link({"jobset", r.project, r.jobset}), r.project + ":" + r.jobset);
        h.raw(" for ").text(durationText(site.now() - r.startTime));
        if (auto it = found.find(r.jobsetId); it != found.end())
            h.raw(": <strong>").text(std::to_string(it->second)).raw("</strong> jobs found so far");
        h.raw("</li>");
    }
    return h.raw("</ul></section>");
}

} // namespace

Response recentEvalsPage(const Site& site, const Request& req)
{
    int64_t page = pageParam(req);
    bool json = wantsJson(req);
    auto evals = site.read(
        [&](auto& t) { return db::web::recentEvals(t, (page - 1) * evalsPerPage, evalsPerPage, json); });
    if (json) {
        nlohmann::json list = nlohmann::json::array();
        for (const auto& e : evals.evals) list.push_back(toJson(e));
        return pagedJsonResponse("evals", std::move(list), page, evals.total, evalsPerPage);
    }
    auto running = site.read([](auto& t) { return db::web::runningEvals(t); });
    Html h;
    h.append(runningEvalsView(site, running));
    h.append(evalTable(site, evals.evals, true));
    h.append(pager(site, "/evals", page, evals.total, evalsPerPage));
    return pageResponse(
        site, "Latest evaluations", h,
        PageOptions{.liveOn = {db::channel::evalStarted, db::channel::evalProgress, db::channel::evalAdded,
                               db::channel::evalFailed, db::channel::evalCached}});
}

Response recentStepsPage(const Site& site, const Request& req)
{
    int64_t page = pageParam(req);
    auto steps = site.read(
        [&](auto& t) { return db::web::finishedSteps(t, (page - 1) * stepsPerPage, stepsPerPage + 1); });
    bool hasNext = static_cast<int64_t>(steps.size()) > stepsPerPage;
    if (hasNext) steps.pop_back();
    if (wantsJson(req)) {
        nlohmann::json list = nlohmann::json::array();
        for (const auto& s : steps) list.push_back(stepJson(s));
        nlohmann::json out = {{"steps", list}, {"first", "?page=1"}};
        if (hasNext) out["next"] = fmt::format("?page={}", page + 1);
        if (page > 1) out["previous"] = fmt::format("?page={}", page - 1);
        return jsonResponse(out);
    }
    Html h;
    h.raw(
        "<div class=\"scroll\"><table><thead><tr><th>Status</th><th>Step</th><th>Job</th><th>Derivation</th>"
        "<th>Machine</th><th>Finished</th><th>Duration</th></tr></thead><tbody>");
    for (const auto& s : steps) {
        h.raw("<tr><td>")
            .append(statusBadge(true, s.step.status))
            .raw("</td><td>")
            .append(stepLink(site, s.step));
        h.raw("</td><td>").append(jobLink(site, s)).raw("</td><td><code>").text(s.step.drvPath);
        h.raw("</code></td><td>")
            .text(s.step.machine)
            .raw("</td><td>")
            .append(timeView(site, s.step.stopTime));
        h.raw("</td><td>").text(durationText(s.step.stopTime.value_or(0) - s.step.startTime.value_or(0)));
        h.raw("</td></tr>");
    }
    h.raw("</tbody></table></div>").append(nextPager(site, "/steps", page, hasNext));
    return pageResponse(site, "Latest steps", h);
}

} // namespace hydra::server

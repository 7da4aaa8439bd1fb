#include "server/runner_routes.hh"

#include "db/queue_notify.hh"
#include "server/layout.hh"
#include "server/queue_runner_client.hh"
#include "server/respond.hh"
#include "server/site.hh"
#include "server/views.hh"

#include <fmt/format.h>

namespace hydra::server {

namespace {

RunnerAnswer fromRunner(const Site& site, const std::string& path)
{
    return site.queueRunner().get(path);
}

/// The answer when the runner gave none: a 200 page that says why, or JSON {"error"} with 503.
Response unreachableResponse(const Site& site, const Request& req, std::string_view title,
                             const RunnerAnswer& a)
{
    if (wantsJson(req)) return jsonResponse({{"error", a.error}}, 503);
    Html h;
    h.raw("<p><span class=\"status s-bad\">Unreachable</span> ").text(a.error).raw("</p>");
    return pageResponse(site, title, h);
}

std::string joined(const nlohmann::json& list)
{
    std::string out;
    if (!list.is_array()) return out;
    for (const auto& v : list)
        if (v.is_string()) out += (out.empty() ? "" : ", ") + v.get<std::string>();
    return out;
}

int64_t integer(const nlohmann::json& obj, const char* key)
{
    auto it = obj.find(key);
    return it != obj.end() && it->is_number() ? it->get<int64_t>() : 0;
}

Html machineRow(const Site& site, const std::string& name, const nlohmann::json& m)
{
    const auto& stats = m.contains("stats") ? m["stats"] : m;
    bool enabled = m.value("enabled", true);
    int64_t disabledUntil = integer(stats, "disabledUntil");
    Html h;
    h.raw("<tr><td>").text(name).raw("</td><td>");
    if (!enabled)
        h.raw("<span class=\"status s-warn\">removed</span>");
    else if (disabledUntil > site.now())
        h.raw("<span class=\"status s-bad\">backing off</span>");
    else
        h.raw("<span class=\"status s-ok\">enabled</span>");
    h.raw("</td><td>").text(joined(m.value("systems", nlohmann::json::array())));
    h.raw("</td><td>").text(joined(m.value("supportedFeatures", nlohmann::json::array())));
    h.raw("</td><td>").text(fmt::format("{} / {}", integer(stats, "currentJobs"), integer(m, "maxJobs")));
    h.raw("</td><td>").text(fmt::format("{}", m.value("speedFactor", 1.0)));
    h.raw("</td><td>").number(integer(stats, "nrStepsDone"));
    h.raw("</td><td>").text(durationText(integer(stats, "avgStepTimeMs") / 1000));
    h.raw("</td><td>").number(integer(stats, "consecutiveFailures")).raw("</td><td>");
    h.append(timeView(site, integer(stats, "lastFailure")));
    if (stats.contains("lastFailureMessage") && stats["lastFailureMessage"].is_string())
        h.raw("<br><span class=\"muted\">")
            .text(stats["lastFailureMessage"].get<std::string>())
            .raw("</span>");
    h.raw("</td><td>");
    if (disabledUntil > site.now()) h.append(timeView(site, disabledUntil));
    h.raw("</td><td>");
    for (const auto& drv : m.value("jobs", nlohmann::json::array()))
        if (drv.is_string()) h.raw("<code>").text(drv.get<std::string>()).raw("</code><br>");
    return h.raw("</td></tr>");
}

} // namespace

Response machinesPage(const Site& site, const Request& req)
{
    auto a = fromRunner(site, "/status/machines");
    if (a.document && !(a.document->contains("machines") && (*a.document)["machines"].is_object())) {
        a.error = "the queue runner at " + a.url + " answered without a list of machines";
        a.document.reset();
    }
    if (!a.document) return unreachableResponse(site, req, "Machines", a);
    if (wantsJson(req)) return jsonResponse(*a.document);
    const auto& doc = *a.document;
    Html h;
    h.raw("<div "
          "class=\"scroll\"><table><thead><tr><th>Machine</th><th>State</th><th>Systems</th><th>Features</th>"
          "<th>Jobs</th><th>Speed</th><th>Steps done</th><th>Average step</th><th>Failures in a row</th>"
          "<th>Last failure</th><th>Disabled until</th><th>Running</th></tr></thead><tbody>");
    for (const auto& [name, m] : doc["machines"].items())
        if (m.is_object()) h.append(machineRow(site, name, m));
    h.raw("</tbody></table></div>");
    // A machine backs off when a step fails on it: that step's end refreshes the page.
    return pageResponse(site, "Machines", h,
                        PageOptions{.liveOn = {db::channel::stepStarted, db::channel::stepFinished}});
}

Response queueRunnerStatusPage(const Site& site, const Request& req)
{
    auto a = fromRunner(site, "/status");
    if (!a.document) return unreachableResponse(site, req, "Queue runner status", a);
    if (wantsJson(req)) return jsonResponse(*a.document);
    Html h;
    h.raw("<pre>").text(a.document->dump(2)).raw("</pre>");
    return pageResponse(site, "Queue runner status", h);
}

} // namespace hydra::server

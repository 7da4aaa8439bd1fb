#include "server/eval_routes.hh"

#include "db/web_builds.hh"
#include "db/web_evals.hh"
#include "server/action_buttons.hh"
#include "server/eval_compare.hh"
#include "server/json_objects.hh"
#include "server/layout.hh"
#include "server/respond.hh"
#include "server/site.hh"
#include "server/views.hh"

#include <fmt/format.h>

namespace hydra::server {

namespace {

constexpr size_t shownPerGroup = 250;

db::web::Eval requireEval(const Site& site, const Request& req)
{
    auto id = idParam(req, "id", "evaluation id");
    auto e = site.read([&](auto& t) { return db::web::findEval(t, id); });
    if (!e) throw HttpError(404, fmt::format("evaluation {} does not exist", id));
    return std::move(*e);
}

// The evaluation to compare with: ?compare=ID, else the jobset's previous one.
std::optional<int64_t> comparedEval(const Site& site, const Request& req, const db::web::Eval& eval)
{
    if (auto c = req.queryValue("compare")) {
        Request r;
        r.params["id"] = *c;
        return idParam(r, "id", "evaluation id to compare with");
    }
    return site.read([&](auto& t) { return db::web::previousEval(t, eval); });
}

nlohmann::json idsOf(const std::vector<db::web::EvalBuild>& builds)
{
    auto out = nlohmann::json::array();
    for (const auto& b : builds) out.push_back(b.id);
    return out;
}

nlohmann::json comparisonJson(const EvalComparison& c, std::optional<int64_t> other)
{
    return {{"compared_with", other ? nlohmann::json(*other) : nlohmann::json()},
            {"new", idsOf(c.newJobs)},
            {"removed", idsOf(c.removedJobs)},
            {"now_failing", idsOf(c.nowFailing)},
            {"now_succeeding", idsOf(c.nowSucceeding)},
            {"still_failing", idsOf(c.stillFailing)},
            {"still_succeeding", idsOf(c.stillSucceeding)},
            {"unfinished", idsOf(c.unfinished)},
            {"aborted", idsOf(c.aborted)}};
}

Html group(const Site& site, std::string_view title, const std::vector<db::web::EvalBuild>& builds)
{
    Html h;
    if (builds.empty()) return h;
    h.raw("<h2>")
        .text(fmt::format("{} ({})", title, builds.size()))
        .raw("</h2><div class=\"scroll\"><table><tbody>");
    for (size_t i = 0; i < builds.size() && i < shownPerGroup; ++i) {
        const auto& b = builds[i];
        auto id = std::to_string(b.id);
        h.raw("<tr><td>").append(statusBadge(b.finished, b.buildStatus)).raw("</td><td>");
        h.link(site.link({"build", id}), id).raw("</td><td>").text(b.job).raw("</td><td>").text(b.nixName);
        h.raw("</td><td>").text(b.system).raw("</td></tr>");
    }
    h.raw("</tbody></table></div>");
    if (builds.size() > shownPerGroup)
        h.raw("<p class=\"muted\">")
            .text(fmt::format("and {} more: see the JSON of this page", builds.size() - shownPerGroup))
            .raw("</p>");
    return h;
}

Html evalInputs(const db::web::Eval& e)
{
    Html h;
    h.raw("<h2>Inputs</h2><div class=\"scroll\"><table><thead><tr><th>Name</th><th>Type</th><th>Value</th>"
          "<th>Revision</th></tr></thead><tbody>");
    for (const auto& in : e.inputs) {
        h.raw("<tr><td>").text(in.name).raw("</td><td>").text(in.type).raw("</td><td><code>");
        h.text(in.uri.empty() ? (in.value.empty() ? in.path : in.value) : in.uri)
            .raw("</code></td><td><code>");
        h.text(in.revision).raw("</code></td></tr>");
    }
    return h.raw("</tbody></table></div>");
}

} // namespace

Response evalPage(const Site& site, const Request& req)
{
    auto eval = requireEval(site, req);
    bool json = wantsJson(req);
    if (json && !req.queryValue("compare")) return jsonResponse(toJson(eval));
    auto other = comparedEval(site, req, eval);
    auto [current, previous] = site.read([&](auto& t) {
        return std::make_pair(db::web::evalBuilds(t, eval.id),
                              other ? db::web::evalBuilds(t, *other) : std::vector<db::web::EvalBuild>{});
    });
    auto c = compareEvals(current, previous);
    if (json) {
        auto out = toJson(eval);
        out["comparison"] = comparisonJson(c, other);
        return jsonResponse(out);
    }
    Html h;
    h.raw("<p>").link(site.link({"jobset", eval.project, eval.jobset}), eval.project + ":" + eval.jobset);
    h.raw(" · evaluated ").append(timeView(site, eval.timestamp));
    h.text(fmt::format(" · {} builds", current.size()));
    if (other)
        h.raw(" · compared with ").link(site.link({"eval", std::to_string(*other)}), std::to_string(*other));
    h.raw("</p>");
    h.append(evalActionButtons(site, req, eval.id));
    if (!eval.errorMsg.empty())
        h.raw("<p><span class=\"status s-bad\">Evaluation errors</span> ")
            .link(site.link({"eval", std::to_string(eval.id), "errors"}), "show the errors")
            .raw("</p>");
    h.append(group(site, "Now failing", c.nowFailing)).append(group(site, "Now succeeding", c.nowSucceeding));
    h.append(group(site, "New jobs", c.newJobs)).append(group(site, "Removed jobs", c.removedJobs));
    h.append(group(site, "Queued", c.unfinished)).append(group(site, "Aborted", c.aborted));
    h.append(group(site, "Still failing", c.stillFailing))
        .append(group(site, "Still succeeding", c.stillSucceeding));
    h.append(evalInputs(eval));
    return pageResponse(site, fmt::format("Evaluation {}", eval.id), h);
}

Response evalBuildsPage(const Site& site, const Request& req)
{
    auto eval = requireEval(site, req);
    bool json = wantsJson(req);
    auto builds = site.read([&](auto& t) {
        return db::web::loadBuilds(t, eval.builds,
                                   json ? db::web::BuildDetail::Full : db::web::BuildDetail::Summary);
    });
    if (json) {
        auto list = nlohmann::json::array();
        for (const auto& b : builds) list.push_back(toJson(b));
        return jsonResponse(list);
    }
    return pageResponse(site, fmt::format("Builds of evaluation {}", eval.id), buildTable(site, builds));
}

Response evalStorePaths(const Site& site, const Request& req)
{
    auto eval = requireEval(site, req);
    auto paths = site.read([&](auto& t) { return db::web::evalStorePaths(t, eval.id); });
    if (wantsJson(req)) return jsonResponse(paths);
    std::string text;
    for (const auto& p : paths) text += p + "\n";
    return textResponse(std::move(text));
}

Response evalErrorsPage(const Site& site, const Request& req)
{
    auto eval = requireEval(site, req);
    if (wantsJson(req))
        return jsonResponse(
            {{"id", eval.id},
             {"errormsg", eval.errorMsg},
             {"errortime", eval.errorTime ? nlohmann::json(*eval.errorTime) : nlohmann::json()}});
    Html h;
    if (eval.errorMsg.empty())
        h.raw("<p>This evaluation had no errors.</p>");
    else
        h.raw("<pre>").text(eval.errorMsg).raw("</pre>");
    return pageResponse(site, fmt::format("Errors of evaluation {}", eval.id), h);
}

Response evalJobRedirect(const Site& site, const Request& req)
{
    auto id = idParam(req, "id", "evaluation id");
    const auto& job = req.param("job");
    auto build = site.read([&](auto& t) { return db::web::evalJobBuild(t, id, job); });
    if (!build) throw HttpError(404, fmt::format("evaluation {} has no job ‘{}’", id, job));
    return Response::redirect(302, site.absoluteUrl("/build/" + std::to_string(*build) + restOfPath(req)));
}

} // namespace hydra::server

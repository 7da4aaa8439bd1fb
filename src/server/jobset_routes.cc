#include "server/jobset_routes.hh"

#include "db/jobset_writes.hh"
#include "db/web_evals.hh"
#include "db/web_projects.hh"
#include "server/action_buttons.hh"
#include "server/json_objects.hh"
#include "server/layout.hh"
#include "server/project_edit_routes.hh"
#include "server/respond.hh"
#include "server/site.hh"
#include "server/views.hh"

#include <fmt/format.h>
#include <map>

namespace hydra::server {

namespace {

constexpr int64_t evalsPerPage = 20;
constexpr int64_t gridEvals = 5;
constexpr int64_t gridJobsPerPage = 250;

Html jobGridView(const Site& site, const std::vector<int64_t>& evalIds,
                 const std::vector<db::web::GridCell>& cells)
{
    Html h;
    h.raw("<div class=\"scroll\"><table class=\"grid\"><thead><tr><th>Job</th>");
    for (auto id : evalIds)
        h.raw("<th>").link(site.link({"eval", std::to_string(id)}), std::to_string(id)).raw("</th>");
    h.raw("</tr></thead><tbody>");
    std::map<std::string, std::map<int64_t, const db::web::GridCell*>> byJob;
    for (const auto& c : cells) byJob[c.job].emplace(c.eval, &c);
    for (const auto& [job, byEval] : byJob) {
        h.raw("<tr><td>").text(job).raw("</td>");
        for (auto id : evalIds) {
            h.raw("<td>");
            if (auto it = byEval.find(id); it != byEval.end())
                h.raw("<a href=\"")
                    .text(site.link({"build", std::to_string(it->second->build)}))
                    .raw("\">")
                    .append(statusBadge(it->second->finished, it->second->buildStatus))
                    .raw("</a>");
            h.raw("</td>");
        }
        h.raw("</tr>");
    }
    return h.raw("</tbody></table></div>");
}

Html jobsetSummary(const Site& site, const db::web::Jobset& j)
{
    Html h;
    h.raw("<dl><dt>Description</dt><dd>").text(j.description).raw("</dd>");
    if (j.type == 1)
        h.raw("<dt>Flake</dt><dd><code>").text(j.flake).raw("</code></dd>");
    else
        h.raw("<dt>Nix expression</dt><dd><code>")
            .text(j.nixExprPath)
            .raw("</code> in input <code>")
            .text(j.nixExprInput)
            .raw("</code></dd>");
    h.raw("<dt>Last checked</dt><dd>").append(timeView(site, j.lastCheckedTime)).raw("</dd>");
    h.raw("<dt>Check interval</dt><dd>").number(j.checkInterval).raw(" s</dd><dt>Scheduling shares</dt><dd>");
    h.number(j.schedulingShares).raw("</dd><dt>Builds now</dt><dd>");
    h.text(fmt::format("{} succeeded, {} failed, {} queued", j.nrSucceeded, j.nrFailed, j.nrScheduled))
        .raw("</dd>");
    h.raw("<dt>Inputs</dt><dd>");
    for (const auto& in : j.inputs)
        h.raw("<code>").text(in.name + " (" + in.type + "): " + in.value).raw("</code><br>");
    h.raw("</dd></dl>");
    if (!j.errorMsg.empty() || !j.fetchErrorMsg.empty())
        h.raw("<p><span class=\"status s-bad\">Evaluation errors</span> ")
            .link(site.link({"jobset", j.project, j.name, "errors"}), "show the errors")
            .raw("</p>");
    return h;
}

} // namespace

db::web::Jobset requireJobset(const Site& site, const Request& req)
{
    const auto& p = req.param("project");
    const auto& name = req.param("jobset");
    auto j = site.read([&](auto& t) { return db::web::findJobset(t, p, name); });
    if (j) return std::move(*j);
    // As Hydra: a page of a renamed jobset moved to the same page of its new name.
    auto renamed = site.read([&](auto& t) { return db::renamedJobset(t, p, name); });
    auto oldPart = "/" + percentEncode(p) + "/" + percentEncode(name);
    auto at = req.path.find(oldPart);
    if (renamed && (req.method == "GET" || req.method == "HEAD") && at != std::string::npos) {
        auto path = req.path;
        path.replace(at, oldPart.size(), "/" + percentEncode(p) + "/" + percentEncode(*renamed));
        throw HttpRedirect(301, site.url(path));
    }
    throw HttpError(404, "jobset ‘" + p + ":" + name + "’ does not exist");
}

Response jobsetPage(const Site& site, const Request& req)
{
    auto jobset = requireJobset(site, req);
    if (wantsJson(req)) return jsonResponse(toJson(jobset));
    int64_t page = pageParam(req);
    auto [evals, cells, moreJobs] = site.read([&](auto& t) {
        auto evalPage = db::web::jobsetEvals(t, jobset.id, 0, gridEvals, false);
        std::vector<int64_t> ids;
        for (const auto& e : evalPage.evals) ids.push_back(e.id);
        auto grid = db::web::jobGrid(t, ids, (page - 1) * gridJobsPerPage, gridJobsPerPage);
        return std::make_tuple(evalPage.evals, grid.cells, grid.hasMore);
    });
    std::vector<int64_t> evalIds;
    for (const auto& e : evals) evalIds.push_back(e.id);
    Html h;
    h.append(jobsetSummary(site, jobset)).append(jobsetEditLinks(site, req, jobset.project, jobset.name));
    h.append(jobsetActionButtons(site, req, jobset.project, jobset.name));
    h.raw("<h2>Evaluations</h2>").append(evalTable(site, evals, false));
    h.link(site.link({"jobset", jobset.project, jobset.name, "evals"}), "All evaluations");
    h.raw("<h2>Jobs</h2>").append(jobGridView(site, evalIds, cells));
    h.append(nextPager(site, "/jobset/" + percentEncode(jobset.project) + "/" + percentEncode(jobset.name),
                       page, moreJobs));
    return pageResponse(site, "Jobset " + jobset.project + ":" + jobset.name, h);
}

Response jobsetEvalsPage(const Site& site, const Request& req)
{
    auto jobset = requireJobset(site, req);
    int64_t page = pageParam(req);
    bool json = wantsJson(req);
    auto evals = site.read([&](auto& t) {
        return db::web::jobsetEvals(t, jobset.id, (page - 1) * evalsPerPage, evalsPerPage, json);
    });
    if (json) {
        nlohmann::json list = nlohmann::json::array();
        for (const auto& e : evals.evals) list.push_back(toJson(e));
        return pagedJsonResponse("evals", std::move(list), page, evals.total, evalsPerPage);
    }
    Html h;
    h.append(evalTable(site, evals.evals, false));
    h.append(pager(site,
                   "/jobset/" + percentEncode(jobset.project) + "/" + percentEncode(jobset.name) + "/evals",
                   page, evals.total, evalsPerPage));
    return pageResponse(site, "Evaluations of " + jobset.project + ":" + jobset.name, h);
}

Response jobsetErrorsPage(const Site& site, const Request& req)
{
    auto jobset = requireJobset(site, req);
    if (wantsJson(req))
        return jsonResponse(
            {{"errormsg", jobset.errorMsg},
             {"fetcherrormsg", jobset.fetchErrorMsg},
             {"errortime", jobset.errorTime ? nlohmann::json(*jobset.errorTime) : nlohmann::json()}});
    Html h;
    if (!jobset.fetchErrorMsg.empty())
        h.raw("<h2>Input errors</h2><pre>").text(jobset.fetchErrorMsg).raw("</pre>");
    if (!jobset.errorMsg.empty())
        h.raw("<h2>Evaluation errors</h2><pre>").text(jobset.errorMsg).raw("</pre>");
    if (h.empty()) h.raw("<p>The last evaluation had no errors.</p>");
    return pageResponse(site, "Errors of " + jobset.project + ":" + jobset.name, h);
}

Response jobsetLatestEval(const Site& site, const Request& req)
{
    auto jobset = requireJobset(site, req);
    auto id = site.read([&](auto& t) { return db::web::latestFinishedEval(t, jobset.id); });
    if (!id)
        throw HttpError(404,
                        "jobset ‘" + jobset.project + ":" + jobset.name + "’ has no finished evaluation");
    return Response::redirect(302, site.absoluteUrl("/eval/" + std::to_string(*id) + restOfPath(req)));
}

} // namespace hydra::server

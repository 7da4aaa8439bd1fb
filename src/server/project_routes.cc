#include "server/project_routes.hh"

#include "db/web_projects.hh"
#include "server/json_objects.hh"
#include "server/layout.hh"
#include "server/project_edit_routes.hh"
#include "server/respond.hh"
#include "server/site.hh"
#include "server/views.hh"

namespace hydra::server {

namespace {

Html jobsetTable(const Site& site, const std::vector<db::web::Jobset>& jobsets)
{
    Html h;
    h.raw("<div class=\"scroll\"><table><thead><tr><th>Jobset</th><th>Description</th><th>Last evaluated</th>"
          "<th>Succeeded</th><th>Failed</th><th>Queued</th></tr></thead><tbody>");
    for (const auto& j : jobsets) {
        h.raw("<tr><td>").link(site.link({"jobset", j.project, j.name}), j.name);
        if (!j.errorMsg.empty() || !j.fetchErrorMsg.empty())
            h.raw(" <span class=\"status s-bad\">error</span>");
        h.raw("</td><td>").text(j.description).raw("</td><td>").append(timeView(site, j.lastCheckedTime));
        h.raw("</td><td>").number(j.nrSucceeded).raw("</td><td>").number(j.nrFailed);
        h.raw("</td><td>").number(j.nrScheduled).raw("</td></tr>");
    }
    return h.raw("</tbody></table></div>");
}

} // namespace

Response overviewPage(const Site& site, const Request& req)
{
    auto projects = site.read([](auto& t) { return db::web::listProjects(t, false); });
    if (wantsJson(req)) {
        nlohmann::json list = nlohmann::json::array();
        for (const auto& p : projects) list.push_back(toJson(p));
        return jsonResponse(list);
    }
    Html h;
    h.raw("<div "
          "class=\"scroll\"><table><thead><tr><th>Project</th><th>Name</th><th>Description</th></tr></"
          "thead><tbody>");
    for (const auto& p : projects) {
        h.raw("<tr><td>").link(site.link({"project", p.name}), p.name).raw("</td><td>").text(p.displayName);
        h.raw("</td><td>").text(p.description).raw("</td></tr>");
    }
    h.raw("</tbody></table></div>");
    if (projects.empty()) h.raw("<p class=\"muted\">No projects yet.</p>");
    h.append(createProjectLink(site, req));
    return pageResponse(site, "Projects", h);
}

Response projectPage(const Site& site, const Request& req)
{
    const auto& name = req.param("project");
    auto [project, jobsets] = site.read([&](auto& t) {
        auto p = db::web::findProject(t, name);
        return std::make_pair(p, p ? db::web::projectJobsets(t, name) : std::vector<db::web::Jobset>{});
    });
    if (!project) throw HttpError(404, "project ‘" + name + "’ does not exist");
    if (wantsJson(req)) return jsonResponse(toJson(*project));
    Html h;
    h.raw("<dl><dt>Display name</dt><dd>").text(project->displayName).raw("</dd><dt>Description</dt><dd>");
    h.text(project->description).raw("</dd><dt>Homepage</dt><dd>");
    if (!project->homepage.empty()) h.link(project->homepage, project->homepage);
    h.raw("</dd><dt>Owner</dt><dd>").text(project->owner).raw("</dd><dt>Enabled</dt><dd>");
    h.text(project->enabled ? "yes" : "no")
        .raw("</dd></dl><h2>Jobsets</h2>")
        .append(jobsetTable(site, jobsets));
    h.append(projectEditLinks(site, req, project->name));
    return pageResponse(site, "Project " + project->name, h);
}

} // namespace hydra::server

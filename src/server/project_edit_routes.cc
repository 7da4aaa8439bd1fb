#include "server/project_edit_routes.hh"

#include "db/project_writes.hh"
#include "server/config_actions.hh"
#include "server/config_forms.hh"
#include "server/forms.hh"
#include "server/identity.hh"
#include "server/layout.hh"
#include "server/permissions.hh"
#include "server/project_input.hh"
#include "server/respond.hh"
#include "server/site.hh"
#include "util/logging.hh"

#include <nlohmann/json.hpp>

namespace hydra::server {

namespace {

using nlohmann::json;

enum class Mode {
    Put,    ///< PUT /project/P: create or update, as Hydra
    Create, ///< the create form: the name comes from the body; an existing name is a conflict
    Edit,   ///< the edit form: the project must exist
};

struct Saved {
    std::string name;
    bool created = false;
};

Saved saveProject(const Site& site, const Request& req, const std::string& urlName, const json& body,
                  Mode mode)
{
    const auto& user = requireUser(req);
    bool exists = mode != Mode::Create &&
                  site.read([&](auto& t) { return db::loadProjectConfig(t, urlName).has_value(); });
    if (mode == Mode::Edit && !exists) throw HttpError(404, "project ‘" + urlName + "’ does not exist");
    if (exists)
        requireProjectRights(site, req, urlName);
    else
        requireRole(site, req, "create-projects");
    auto c = projectFromBody(body, urlName);
    // As in Hydra, only an admin chooses the owner; a project is otherwise its creator's.
    if (!user.isAdmin() || c.owner.empty()) c.owner = exists ? "" : user.username;
    translateConfigErrors([&] {
        site.write([&](auto& t) {
            if (exists)
                db::updateProject(t, urlName, c, site.now());
            else
                db::createProject(t, c, site.now());
        });
    });
    log::info("project {} {} by {}", c.name, exists ? "updated" : "created", user.username);
    return {c.name, !exists};
}

std::string projectUri(const Site& site, const std::string& name)
{
    return site.absoluteUrl("/project/" + percentEncode(name));
}

void deleteProjectAs(const Site& site, const Request& req, const std::string& name)
{
    requireProjectRights(site, req, name);
    bool deleted = site.write([&](auto& t) { return db::deleteProject(t, name); });
    if (!deleted) throw HttpError(404, "project ‘" + name + "’ does not exist");
    log::info("project {} deleted by {}", name, requireUser(req).username);
}

} // namespace

Response projectPut(const Site& site, const Request& req)
{
    auto body = actionBody(req, formFields(req));
    auto saved = saveProject(site, req, req.param("project"), body, Mode::Put);
    auto uri = projectUri(site, saved.name);
    if (!saved.created) return jsonResponse({{"redirect", uri + "#tabs-configuration"}});
    auto r = jsonResponse({{"name", saved.name}, {"uri", uri}, {"redirect", uri}, {"type", "project"}}, 201);
    r.headers.emplace_back("Location", uri);
    return r;
}

Response projectDelete(const Site& site, const Request& req)
{
    deleteProjectAs(site, req, req.param("project"));
    return jsonResponse({{"redirect", site.absoluteUrl("/")}});
}

Response createProjectPage(const Site& site, const Request& req)
{
    requireRole(site, req, "create-projects");
    db::ProjectConfig defaults;
    auto form = projectForm(req, site.url("/create-project"), defaults, req.user && req.user->isAdmin(),
                            "Create project");
    return pageResponse(site, "Create project", form);
}

Response createProjectSubmit(const Site& site, const Request& req)
{
    auto body = actionBody(req, formFields(req));
    auto saved = saveProject(site, req, "", body, Mode::Create);
    return Response::redirect(302, site.link({"project", saved.name}));
}

Response editProjectPage(const Site& site, const Request& req)
{
    const auto& name = req.param("project");
    requireProjectRights(site, req, name);
    auto c = site.read([&](auto& t) { return db::loadProjectConfig(t, name); });
    if (!c) throw HttpError(404, "project ‘" + name + "’ does not exist");
    Html h;
    h.append(
        projectForm(req, site.link({"project", name, "edit"}), *c, req.user && req.user->isAdmin(), "Save"));
    h.raw("<h2>Delete</h2><p>Deletes the project with its jobsets, evaluations and builds.</p>");
    h.append(deleteForm(req, site.link({"project", name, "delete"}), "Delete this project"));
    return pageResponse(site, "Edit project " + name, h);
}

Response editProjectSubmit(const Site& site, const Request& req)
{
    auto body = actionBody(req, formFields(req));
    auto saved = saveProject(site, req, req.param("project"), body, Mode::Edit);
    return Response::redirect(302, site.link({"project", saved.name}));
}

Response deleteProjectSubmit(const Site& site, const Request& req)
{
    deleteProjectAs(site, req, req.param("project"));
    return Response::redirect(302, site.url("/"));
}

Html createProjectLink(const Site& site, const Request& req)
{
    Html h;
    if (mayAct(site, req, "create-projects"))
        h.raw("<p>").link(site.url("/create-project"), "Create a project").raw("</p>");
    return h;
}

Html projectEditLinks(const Site& site, const Request& req, const std::string& project)
{
    Html h;
    if (!mayAct(site, req, "", project)) return h;
    h.raw("<p>").link(site.link({"project", project, "edit"}), "Edit this project");
    h.raw(" · ").link(site.link({"project", project, "create-jobset"}), "Create a jobset").raw("</p>");
    return h;
}

Html jobsetEditLinks(const Site& site, const Request& req, const std::string& project,
                     const std::string& jobset)
{
    Html h;
    if (!mayAct(site, req, "", project)) return h;
    h.raw("<p>").link(site.link({"jobset", project, jobset, "edit"}), "Edit this jobset");
    h.raw(" · ").link(site.link({"jobset", project, jobset, "clone"}), "Clone it").raw("</p>");
    return h;
}

} // namespace hydra::server

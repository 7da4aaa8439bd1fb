#include "server/jobset_edit_routes.hh"

#include "db/jobset_writes.hh"
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
    Put,    ///< PUT /jobset/P/J: create or update, as Hydra
    Create, ///< the create and clone forms: the name comes from the body; a taken name is a conflict
    Edit,   ///< the edit form: the jobset must exist
};

struct Saved {
    std::string name;
    bool created = false;
};

// The project must exist and not be declarative (its specification owns its jobsets).
void requireEditableProject(const Site& site, const std::string& project)
{
    auto p = site.read([&](auto& t) { return db::loadProjectConfig(t, project); });
    if (!p) throw HttpError(404, "project ‘" + project + "’ does not exist");
    if (!p->declFile.empty())
        throw HttpError(403, "can't modify jobset of declarative project ‘" + project +
                                 "’: its specification file defines its jobsets");
}

Saved saveJobset(const Site& site, const Request& req, const std::string& project, const std::string& urlName,
                 const json& body, Mode mode)
{
    requireProjectRights(site, req, project);
    requireEditableProject(site, project);
    bool exists = mode != Mode::Create &&
                  site.read([&](auto& t) { return db::loadJobsetConfig(t, project, urlName).has_value(); });
    if (mode == Mode::Edit && !exists)
        throw HttpError(404, "jobset ‘" + project + ":" + urlName + "’ does not exist");
    auto c = jobsetFromBody(body, urlName);
    translateConfigErrors([&] {
        site.write([&](auto& t) {
            if (exists)
                db::updateJobset(t, project, urlName, c, site.now());
            else
                db::createJobset(t, project, c, site.now());
        });
    });
    log::info("jobset {}:{} {} by {}", project, c.name, exists ? "updated" : "created",
              requireUser(req).username);
    return {c.name, !exists};
}

void deleteJobsetAs(const Site& site, const Request& req, const std::string& project, const std::string& name)
{
    requireAdmin(req); // as in Hydra: deleting a jobset's history is for admins only
    requireEditableProject(site, project);
    bool deleted = site.write([&](auto& t) { return db::deleteJobset(t, project, name); });
    if (!deleted) throw HttpError(404, "jobset ‘" + project + ":" + name + "’ does not exist");
    log::info("jobset {}:{} deleted by {}", project, name, requireUser(req).username);
}

db::JobsetConfig existingJobset(const Site& site, const std::string& project, const std::string& name)
{
    auto c = site.read([&](auto& t) { return db::loadJobsetConfig(t, project, name); });
    if (!c) throw HttpError(404, "jobset ‘" + project + ":" + name + "’ does not exist");
    return *c;
}

} // namespace

Response jobsetPut(const Site& site, const Request& req)
{
    const auto& project = req.param("project");
    auto body = actionBody(req, formFields(req));
    auto saved = saveJobset(site, req, project, req.param("jobset"), body, Mode::Put);
    auto uri = site.absoluteUrl("/jobset/" + percentEncode(project) + "/" + percentEncode(saved.name));
    if (!saved.created) return jsonResponse({{"redirect", uri + "#tabs-configuration"}});
    auto r = jsonResponse({{"name", saved.name}, {"uri", uri}, {"redirect", uri}, {"type", "jobset"}}, 201);
    r.headers.emplace_back("Location", uri);
    return r;
}

Response jobsetDelete(const Site& site, const Request& req)
{
    const auto& project = req.param("project");
    deleteJobsetAs(site, req, project, req.param("jobset"));
    return jsonResponse({{"redirect", site.absoluteUrl("/project/" + percentEncode(project))}});
}

Response createJobsetPage(const Site& site, const Request& req)
{
    const auto& project = req.param("project");
    requireProjectRights(site, req, project);
    requireEditableProject(site, project);
    db::JobsetConfig defaults;
    defaults.name.clear();
    auto form = jobsetForm(req, site.link({"project", project, "create-jobset"}), defaults, "Create jobset");
    return pageResponse(site, "Create a jobset in " + project, form);
}

Response createJobsetSubmit(const Site& site, const Request& req)
{
    const auto& project = req.param("project");
    auto saved = saveJobset(site, req, project, "", actionBody(req, formFields(req)), Mode::Create);
    return Response::redirect(302, site.link({"jobset", project, saved.name}));
}

Response editJobsetPage(const Site& site, const Request& req)
{
    const auto& project = req.param("project");
    const auto& name = req.param("jobset");
    requireProjectRights(site, req, project);
    requireEditableProject(site, project);
    auto c = existingJobset(site, project, name);
    Html h = jobsetForm(req, site.link({"jobset", project, name, "edit"}), c, "Save");
    h.raw("<p>").link(site.link({"jobset", project, name, "clone"}), "Clone this jobset").raw("</p>");
    if (req.user && req.user->isAdmin()) {
        h.raw("<h2>Delete</h2><p>Deletes the jobset with its evaluations and builds.</p>");
        h.append(deleteForm(req, site.link({"jobset", project, name, "delete"}), "Delete this jobset"));
    }
    return pageResponse(site, "Edit jobset " + project + ":" + name, h);
}

Response editJobsetSubmit(const Site& site, const Request& req)
{
    const auto& project = req.param("project");
    auto saved =
        saveJobset(site, req, project, req.param("jobset"), actionBody(req, formFields(req)), Mode::Edit);
    return Response::redirect(302, site.link({"jobset", project, saved.name}));
}

Response cloneJobsetPage(const Site& site, const Request& req)
{
    const auto& project = req.param("project");
    const auto& name = req.param("jobset");
    requireProjectRights(site, req, project);
    requireEditableProject(site, project);
    auto c = existingJobset(site, project, name);
    c.name.clear(); // the clone needs a name of its own
    auto form = jobsetForm(req, site.link({"jobset", project, name, "clone"}), c, "Create the clone");
    return pageResponse(site, "Clone jobset " + project + ":" + name, form);
}

Response cloneJobsetSubmit(const Site& site, const Request& req)
{
    const auto& project = req.param("project");
    existingJobset(site, project, req.param("jobset")); // 404 for a clone of nothing
    auto saved = saveJobset(site, req, project, "", actionBody(req, formFields(req)), Mode::Create);
    return Response::redirect(302, site.link({"jobset", project, saved.name}));
}

Response deleteJobsetSubmit(const Site& site, const Request& req)
{
    const auto& project = req.param("project");
    deleteJobsetAs(site, req, project, req.param("jobset"));
    return Response::redirect(302, site.link({"project", project}));
}

} // namespace hydra::server

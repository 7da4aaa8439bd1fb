// hydra project list|show|create|update|delete: the projects of the site, changed with the
// same checks as the web's PUT and DELETE /project/P.

#include "cli/commands.hh"
#include "cli/config_options.hh"
#include "cli/site.hh"
#include "db/project_writes.hh"
#include "db/web_projects.hh"
#include "server/json_objects.hh"
#include "util/error.hh"

#include <cstdio>
#include <ctime>

namespace hydra::cli {

namespace {

const std::set<std::string> projectFields = {
    "name",     "displayname", "description", "homepage",
    "owner",    "enabled",     "visible",     "enable_dynamic_run_command",
    "declfile", "decltype",    "declvalue"};

db::ProjectConfig checked(const nlohmann::json& body, const std::string& name)
{
    try {
        return db::parseProjectConfig(body, name);
    } catch (const db::ConfigError& e) {
        throw Error("{} (option --{})", e.what(),
                    e.field().starts_with("declarative.") ? "decl" + e.field().substr(12) : e.field());
    }
}

void show(pqxx::transaction_base& t, const std::string& name, bool json)
{
    auto p = db::web::findProject(t, name);
    if (!p) throw Error("project '{}' does not exist", name);
    if (json) return printConfigJson(server::toJson(*p));
    std::printf("%s: %s\n  owner %s, %s, %s\n", p->name.c_str(), p->displayName.c_str(), p->owner.c_str(),
                p->enabled ? "enabled" : "disabled", p->hidden ? "hidden" : "visible");
    if (!p->description.empty()) std::printf("  %s\n", p->description.c_str());
    if (!p->homepage.empty()) std::printf("  homepage %s\n", p->homepage.c_str());
    if (p->declFile && !p->declFile->empty())
        std::printf("  declarative: %s in %s input %s\n", p->declFile->c_str(),
                    p->declType.value_or("").c_str(), p->declValue.value_or("").c_str());
    for (const auto& j : p->jobsets) std::printf("  jobset %s\n", j.c_str());
}

std::string onlyName(const ConfigOptions& o, const char* what)
{
    if (o.positional.empty()) throw UsageError(std::string("missing ") + what);
    if (o.positional.size() > 1) throw UsageError("unexpected argument '" + o.positional[1] + "'");
    return o.positional[0];
}

int list(const ConfigOptions& o, pqxx::connection& c)
{
    if (!o.positional.empty()) throw UsageError("unexpected argument '" + o.positional[0] + "'");
    pqxx::work t(c);
    auto projects = db::web::listProjects(t, true);
    if (o.json) {
        nlohmann::json list = nlohmann::json::array();
        for (const auto& p : projects) list.push_back(server::toJson(p));
        printConfigJson(list);
        return 0;
    }
    for (const auto& p : projects)
        std::printf("%s\t%s%s\n", p.name.c_str(), p.displayName.c_str(), p.hidden ? " (hidden)" : "");
    return 0;
}

int change(const std::string& verb, const ConfigOptions& o, pqxx::connection& c)
{
    auto name = onlyName(o, "PROJECT");
    pqxx::work t(c);
    auto now = static_cast<int64_t>(std::time(nullptr));
    std::string shown = name;
    if (verb == "show") {
        show(t, name, o.json);
        return 0;
    }
    if (verb == "delete") {
        if (!db::deleteProject(t, name)) throw Error("project '{}' does not exist", name);
        t.commit();
        if (o.json)
            printConfigJson({{"deleted", name}});
        else
            std::printf("deleted project %s\n", name.c_str());
        return 0;
    }
    if (verb == "create") {
        // Unlike the web's check boxes, a project created from the shell is enabled and visible
        // unless told otherwise.
        nlohmann::json body = {{"enabled", true}, {"visible", true}};
        applyConfigOptions(o, body);
        body.erase("inputs");
        auto config = checked(body, name);
        if (config.owner.empty()) throw UsageError("missing --owner USER");
        db::createProject(t, config, now);
        shown = config.name;
    } else {
        auto current = db::loadProjectConfig(t, name);
        if (!current) throw Error("project '{}' does not exist", name);
        auto body = db::toBody(*current);
        applyConfigOptions(o, body);
        body.erase("inputs");
        auto config = checked(body, name);
        db::updateProject(t, name, config, now);
        shown = config.name;
    }
    t.commit();
    pqxx::work r(c);
    if (o.json) return show(r, shown, true), 0;
    std::printf("%s project %s\n", verb == "create" ? "created" : "updated", shown.c_str());
    return 0;
}

} // namespace

int cmdProject(Args& args)
{
    if (args.done()) throw UsageError("missing list, show, create, update or delete");
    auto verb = args.next();
    if (verb != "list" && verb != "show" && verb != "create" && verb != "update" && verb != "delete")
        throw UsageError("unknown subcommand '" + verb + "'");
    bool changes = verb == "create" || verb == "update";
    auto o = readConfigOptions(args, changes ? projectFields : std::set<std::string>{}, false);
    Site site = Site::fromEnvironment();
    auto conn = site.connect(/*startPrivate=*/true);
    return verb == "list" ? list(o, *conn) : change(verb, o, *conn);
}

} // namespace hydra::cli

// hydra jobset list|show|create|update|delete: the jobsets of a project, changed with the
// same checks as the web's PUT and DELETE /jobset/P/J.

#include "cli/commands.hh"
#include "cli/config_options.hh"
#include "cli/site.hh"
#include "db/jobset_writes.hh"
#include "db/project_writes.hh"
#include "db/web_projects.hh"
#include "server/json_objects.hh"
#include "util/error.hh"

#include <cstdio>
#include <ctime>

namespace hydra::cli {

namespace {

const std::set<std::string> jobsetFields = {"name",
                                            "description",
                                            "type",
                                            "nixexprinput",
                                            "nixexprpath",
                                            "flake",
                                            "enabled",
                                            "visible",
                                            "keepnr",
                                            "checkinterval",
                                            "schedulingshares",
                                            "enableemail",
                                            "emailoverride",
                                            "enable_dynamic_run_command"};

db::JobsetConfig checked(const nlohmann::json& body, const std::string& name)
{
    try {
        return db::parseJobsetConfig(body, name);
    } catch (const db::ConfigError& e) {
        throw Error("{} (option --{})", e.what(), e.field().starts_with("inputs.") ? "input" : e.field());
    }
}

const char* enabledName(int enabled)
{
    switch (enabled) {
    case 0: return "disabled";
    case 2: return "one-shot";
    case 3: return "one-at-a-time";
    default: return "enabled";
    }
}

void show(pqxx::transaction_base& t, const std::string& project, const std::string& name, bool json)
{
    auto j = db::web::findJobset(t, project, name);
    if (!j) throw Error("jobset '{}:{}' does not exist", project, name);
    if (json) return printConfigJson(server::toJson(*j));
    std::printf("%s:%s: %s, %s, every %d s, %d shares, keep %d\n", j->project.c_str(), j->name.c_str(),
                enabledName(j->enabled), j->hidden ? "hidden" : "visible", j->checkInterval,
                j->schedulingShares, j->keepNr);
    if (j->type == 1)
        std::printf("  flake %s\n", j->flake.c_str());
    else
        std::printf("  %s in input %s\n", j->nixExprPath.c_str(), j->nixExprInput.c_str());
    for (const auto& in : j->inputs)
        std::printf("  input %s: %s %s\n", in.name.c_str(), in.type.c_str(), in.value.c_str());
    if (!j->errorMsg.empty())
        std::printf("  evaluation error (see /jobset/%s/%s/errors)\n", project.c_str(), name.c_str());
}

int list(const ConfigOptions& o, pqxx::connection& c)
{
    if (o.positional.size() != 1)
        throw UsageError(o.positional.empty() ? "missing PROJECT"
                                              : "unexpected argument '" + o.positional[1] + "'");
    pqxx::work t(c);
    if (!db::web::findProject(t, o.positional[0]))
        throw Error("project '{}' does not exist", o.positional[0]);
    auto jobsets = db::web::projectJobsets(t, o.positional[0]);
    if (o.json) {
        nlohmann::json list = nlohmann::json::array();
        for (const auto& j : jobsets) list.push_back(server::toJson(j));
        printConfigJson(list);
        return 0;
    }
    for (const auto& j : jobsets)
        std::printf("%s\t%s\t%s\n", j.name.c_str(), enabledName(j.enabled), j.description.c_str());
    return 0;
}

int change(const std::string& verb, const ConfigOptions& o, pqxx::connection& c)
{
    if (o.positional.size() < 2)
        throw UsageError(o.positional.empty() ? "missing PROJECT" : "missing JOBSET");
    if (o.positional.size() > 2) throw UsageError("unexpected argument '" + o.positional[2] + "'");
    const auto& project = o.positional[0];
    const auto& name = o.positional[1];
    pqxx::work t(c);
    if (verb == "show") return show(t, project, name, o.json), 0;
    if (db::isDeclarativeProject(t, project))
        throw Error("project '{}' is declarative: its jobsets are defined by its specification file",
                    project);
    auto now = static_cast<int64_t>(std::time(nullptr));
    if (verb == "delete") {
        if (!db::deleteJobset(t, project, name)) throw Error("jobset '{}:{}' does not exist", project, name);
        t.commit();
        if (o.json)
            printConfigJson({{"deleted", project + ":" + name}});
        else
            std::printf("deleted jobset %s:%s\n", project.c_str(), name.c_str());
        return 0;
    }
    std::string shown;
    if (verb == "create") {
        auto body = db::toBody(db::JobsetConfig{});
        body.erase("name"); // the JOBSET argument, unless --name says otherwise
        if (o.fields.contains("flake") && !o.fields.contains("type")) body["type"] = 1;
        applyConfigOptions(o, body);
        auto config = checked(body, name);
        db::createJobset(t, project, config, now);
        shown = config.name;
    } else {
        auto current = db::loadJobsetConfig(t, project, name);
        if (!current) throw Error("jobset '{}:{}' does not exist", project, name);
        auto body = db::toBody(*current);
        applyConfigOptions(o, body);
        auto config = checked(body, name);
        db::updateJobset(t, project, name, config, now);
        shown = config.name;
    }
    t.commit();
    pqxx::work r(c);
    if (o.json) return show(r, project, shown, true), 0;
    std::printf("%s jobset %s:%s\n", verb == "create" ? "created" : "updated", project.c_str(),
                shown.c_str());
    return 0;
}

} // namespace

int cmdJobset(Args& args)
{
    if (args.done()) throw UsageError("missing list, show, create, update or delete");
    auto verb = args.next();
    if (verb != "list" && verb != "show" && verb != "create" && verb != "update" && verb != "delete")
        throw UsageError("unknown subcommand '" + verb + "'");
    bool changes = verb == "create" || verb == "update";
    auto o = readConfigOptions(args, changes ? jobsetFields : std::set<std::string>{}, changes);
    Site site = Site::fromEnvironment();
    auto conn = site.connect(/*startPrivate=*/true);
    return verb == "list" ? list(o, *conn) : change(verb, o, *conn);
}

} // namespace hydra::cli

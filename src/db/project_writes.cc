#include "db/project_writes.hh"

#include "db/jobset_writes.hh"
#include "db/sql_values.hh"

#include <pqxx/pqxx>

namespace hydra::db {

namespace {

std::string textOr(const pqxx::field& f)
{
    return f.is_null() ? std::string() : f.as<std::string>();
}

void requireOwner(pqxx::transaction_base& t, const std::string& owner)
{
    if (t.exec_params("select 1 from Users where userName = $1", owner).empty())
        throw ConfigError("owner", "the user ‘" + owner + "’ in ‘owner’ does not exist");
}

// As in Hydra: a declarative project has a `.jobsets` jobset, triggered at every change of
// the specification's location; a project that stops being declarative loses it.
void syncDeclarativeJobset(pqxx::transaction_base& t, const ProjectConfig& c, int64_t now)
{
    if (c.declFile.empty()) {
        t.exec_params("delete from Jobsets where project = $1 and name = $2", c.name, declarativeJobsetName);
        return;
    }
    t.exec_params(
        "insert into Jobsets (project, name, description, nixExprInput, nixExprPath, emailOverride, "
        "hidden, triggerTime) values ($1, $2, 'the project''s declarative specification', '', '', '', "
        "1, $3) on conflict (project, name) do update set triggerTime = excluded.triggerTime",
        c.name, declarativeJobsetName, now);
}

} // namespace

std::optional<ProjectConfig> loadProjectConfig(pqxx::transaction_base& t, const std::string& name)
{
    auto r = t.exec_params("select name, displayName, description, homepage, owner, enabled, hidden, "
                           "enable_dynamic_run_command, declfile, decltype, declvalue from Projects "
                           "where name = $1",
                           name);
    if (r.empty()) return std::nullopt;
    auto row = r[0];
    ProjectConfig c;
    c.name = row[0].as<std::string>();
    c.displayName = row[1].as<std::string>();
    c.description = textOr(row[2]);
    c.homepage = textOr(row[3]);
    c.owner = row[4].as<std::string>();
    c.enabled = row[5].as<int>() != 0;
    c.hidden = row[6].as<int>() != 0;
    c.enableDynamicRunCommand = row[7].as<bool>();
    c.declFile = textOr(row[8]);
    c.declType = textOr(row[9]);
    c.declValue = textOr(row[10]);
    return c;
}

void createProject(pqxx::transaction_base& t, const ProjectConfig& c, int64_t now)
{
    requireOwner(t, c.owner);
    auto r =
        t.exec_params("insert into Projects (name, displayName, description, homepage, owner, enabled, "
                      "hidden, enable_dynamic_run_command, declfile, decltype, declvalue) values ($1, $2, "
                      "$3, $4, $5, $6, $7, $8, $9, $10, $11) on conflict (name) do nothing",
                      c.name, c.displayName, c.description, c.homepage, c.owner, c.enabled ? 1 : 0,
                      c.hidden ? 1 : 0, c.enableDynamicRunCommand, sql::emptyAsNull(c.declFile),
                      sql::emptyAsNull(c.declType), sql::emptyAsNull(c.declValue));
    if (r.affected_rows() == 0) throw ConflictError("a project named ‘" + c.name + "’ exists already");
    syncDeclarativeJobset(t, c, now);
}

void updateProject(pqxx::transaction_base& t, const std::string& current, const ProjectConfig& c, int64_t now)
{
    if (!c.owner.empty()) requireOwner(t, c.owner);
    if (c.name != current && !t.exec_params("select 1 from Projects where name = $1", c.name).empty())
        throw ConflictError("cannot rename project ‘" + current + "’ to ‘" + c.name +
                            "’: that name is taken");
    auto r = t.exec_params(
        "update Projects set name = $2, displayName = $3, description = $4, homepage = $5, "
        "owner = coalesce($6, owner), enabled = $7, hidden = $8, "
        "enable_dynamic_run_command = $9, declfile = $10, decltype = $11, declvalue = $12 "
        "where name = $1",
        current, c.name, c.displayName, c.description, c.homepage, sql::emptyAsNull(c.owner),
        c.enabled ? 1 : 0, c.hidden ? 1 : 0, c.enableDynamicRunCommand, sql::emptyAsNull(c.declFile),
        sql::emptyAsNull(c.declType), sql::emptyAsNull(c.declValue));
    if (r.affected_rows() == 0) throw NotFoundError("project ‘" + current + "’ does not exist");
    syncDeclarativeJobset(t, c, now);
}

bool deleteProject(pqxx::transaction_base& t, const std::string& name)
{
    for (const auto& jobset : jobsetNames(t, name)) deleteJobset(t, name, jobset);
    return t.exec_params("delete from Projects where name = $1", name).affected_rows() > 0;
}

bool isDeclarativeProject(pqxx::transaction_base& t, const std::string& name)
{
    return !t.exec_params("select 1 from Projects where name = $1 and coalesce(declfile, '') <> ''", name)
                .empty();
}

} // namespace hydra::db

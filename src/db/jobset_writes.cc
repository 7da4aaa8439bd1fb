#include "db/jobset_writes.hh"

#include "db/project_writes.hh"
#include "db/sql_values.hh"

#include <pqxx/pqxx>

namespace hydra::db {

namespace {

std::string textOr(const pqxx::field& f)
{
    return f.is_null() ? std::string() : f.as<std::string>();
}

void replaceInputs(pqxx::transaction_base& t, const std::string& project, const JobsetConfig& c)
{
    t.exec_params("delete from JobsetInputs where project = $1 and jobset = $2", project, c.name);
    if (c.type != 0) return;
    for (const auto& in : c.inputs) {
        t.exec_params("insert into JobsetInputs (project, jobset, name, type, emailResponsible) "
                      "values ($1, $2, $3, $4, $5)",
                      project, c.name, in.name, in.type, in.emailResponsible ? 1 : 0);
        t.exec_params("insert into JobsetInputAlts (project, jobset, input, altnr, value) "
                      "values ($1, $2, $3, 0, $4)",
                      project, c.name, in.name, in.value);
    }
}

// A legacy jobset has an input and a path and no flake, a flake jobset the opposite (the
// schema's check constraints).
const char* legacyOnly(const JobsetConfig& c, const std::string& v)
{
    return c.type == 0 ? v.c_str() : nullptr;
}

} // namespace

std::optional<JobsetConfig> loadJobsetConfig(pqxx::transaction_base& t, const std::string& project,
                                             const std::string& name)
{
    auto r =
        t.exec_params("select name, description, type, nixExprInput, nixExprPath, flake, enabled, hidden, "
                      "enableEmail, enable_dynamic_run_command, keepnr, checkInterval, schedulingShares, "
                      "emailOverride from Jobsets where project = $1 and name = $2",
                      project, name);
    if (r.empty()) return std::nullopt;
    auto row = r[0];
    JobsetConfig c;
    c.name = row[0].as<std::string>();
    c.description = textOr(row[1]);
    c.type = row[2].as<int>();
    c.nixExprInput = textOr(row[3]);
    c.nixExprPath = textOr(row[4]);
    c.flake = textOr(row[5]);
    c.enabled = row[6].as<int>();
    c.hidden = row[7].as<int>() != 0;
    c.enableEmail = row[8].as<int>() != 0;
    c.enableDynamicRunCommand = row[9].as<bool>();
    c.keepNr = row[10].as<int>();
    c.checkInterval = row[11].as<int>();
    c.schedulingShares = row[12].as<int>();
    c.emailOverride = row[13].as<std::string>();
    auto inputs = t.exec_params("select i.name, i.type, i.emailResponsible, coalesce(a.value, '') from "
                                "JobsetInputs i left join JobsetInputAlts a on a.project = i.project and "
                                "a.jobset = i.jobset and a.input = i.name and a.altnr = 0 "
                                "where i.project = $1 and i.jobset = $2 order by i.name",
                                project, name);
    for (auto in : inputs)
        c.inputs.push_back({in[0].as<std::string>(), in[1].as<std::string>(), in[3].as<std::string>(),
                            in[2].as<int>() != 0});
    return c;
}

int createJobset(pqxx::transaction_base& t, const std::string& project, const JobsetConfig& c, int64_t now,
                 Trigger trigger)
{
    if (t.exec_params("select 1 from Projects where name = $1", project).empty())
        throw NotFoundError("project ‘" + project + "’ does not exist");
    auto r = t.exec_params(
        "insert into Jobsets (project, name, description, type, nixExprInput, nixExprPath, flake, enabled, "
        "hidden, enableEmail, enable_dynamic_run_command, keepnr, checkInterval, schedulingShares, "
        "emailOverride, triggerTime) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, "
        "$15, "
        "case when $17 and $8::integer <> 0 and $13::integer > 0 then $16::integer end) "
        "on conflict (project, name) do nothing returning id",
        project, c.name, c.description, c.type, legacyOnly(c, c.nixExprInput), legacyOnly(c, c.nixExprPath),
        c.type == 1 ? c.flake.c_str() : nullptr, c.enabled, c.hidden ? 1 : 0, c.enableEmail ? 1 : 0,
        c.enableDynamicRunCommand, c.keepNr, c.checkInterval, c.schedulingShares, c.emailOverride, now,
        trigger == Trigger::AsHydraWeb);
    if (r.empty()) throw ConflictError("a jobset named ‘" + c.name + "’ exists already in ‘" + project + "’");
    // A jobset that takes a name another one had left is no longer a redirect target.
    t.exec_params("delete from JobsetRenames where project = $1 and from_ = $2", project, c.name);
    replaceInputs(t, project, c);
    return r[0][0].as<int>();
}

void updateJobset(pqxx::transaction_base& t, const std::string& project, const std::string& current,
                  const JobsetConfig& c, int64_t now, Trigger trigger)
{
    if (c.name != current &&
        !t.exec_params("select 1 from Jobsets where project = $1 and name = $2", project, c.name).empty())
        throw ConflictError("cannot rename jobset ‘" + current + "’ to ‘" + c.name + "’: that name is taken");
    auto r = t.exec_params(
        "update Jobsets set name = $3, description = $4, type = $5, nixExprInput = $6, nixExprPath = $7, "
        "flake = $8, enabled = $9, hidden = $10, enableEmail = $11, enable_dynamic_run_command = $12, "
        "keepnr = $13, checkInterval = $14, schedulingShares = $15, emailOverride = $16, "
        "triggerTime = case when not $18 then triggerTime "
        "when $9::integer <> 0 and $14::integer > 0 then coalesce(triggerTime, $17) end "
        "where project = $1 and name = $2",
        project, current, c.name, c.description, c.type, legacyOnly(c, c.nixExprInput),
        legacyOnly(c, c.nixExprPath), c.type == 1 ? c.flake.c_str() : nullptr, c.enabled, c.hidden ? 1 : 0,
        c.enableEmail ? 1 : 0, c.enableDynamicRunCommand, c.keepNr, c.checkInterval, c.schedulingShares,
        c.emailOverride, now, trigger == Trigger::AsHydraWeb);
    if (r.affected_rows() == 0)
        throw NotFoundError("jobset ‘" + current + "’ does not exist in ‘" + project + "’");
    if (c.name != current) {
        t.exec_params("delete from JobsetRenames where project = $1 and from_ = $2", project, c.name);
        t.exec_params("insert into JobsetRenames (project, from_, to_) values ($1, $2, $3) "
                      "on conflict (project, from_) do update set to_ = excluded.to_",
                      project, current, c.name);
    }
    replaceInputs(t, project, c);
}

bool upsertJobset(pqxx::transaction_base& t, const std::string& project, const JobsetConfig& c, int64_t now,
                  Trigger trigger)
{
    if (t.exec_params("select 1 from Jobsets where project = $1 and name = $2", project, c.name).empty()) {
        createJobset(t, project, c, now, trigger);
        return true;
    }
    updateJobset(t, project, c.name, c, now, trigger);
    return false;
}

bool deleteJobset(pqxx::transaction_base& t, const std::string& project, const std::string& name)
{
    auto id = t.exec_params("select id from Jobsets where project = $1 and name = $2", project, name);
    if (id.empty()) return false;
    auto jobsetId = id[0][0].as<int>();
    // Builds of other jobsets may have used these builds as inputs; those records lose the
    // link instead of blocking the deletion.
    t.exec_params("update BuildInputs set dependency = null where dependency in "
                  "(select id from Builds where jobset_id = $1)",
                  jobsetId);
    t.exec_params("update JobsetEvalInputs set dependency = null where dependency in "
                  "(select id from Builds where jobset_id = $1)",
                  jobsetId);
    // Evaluations and builds go with the jobset (foreign keys on delete cascade).
    t.exec_params("delete from Jobsets where id = $1", jobsetId);
    return true;
}

std::vector<std::string> disableJobsetsExcept(pqxx::transaction_base& t, const std::string& project,
                                              const std::vector<std::string>& keep)
{
    auto r = t.exec_params("update Jobsets set enabled = 0, hidden = 1 where project = $1 and "
                           "not (name = any($2::text[])) and (enabled <> 0 or hidden = 0) returning name",
                           project, sql::textArray(keep));
    std::vector<std::string> names;
    for (auto row : r) names.push_back(row[0].as<std::string>());
    return names;
}

std::optional<std::string> renamedJobset(pqxx::transaction_base& t, const std::string& project,
                                         const std::string& from)
{
    auto r = t.exec_params("select to_ from JobsetRenames where project = $1 and from_ = $2", project, from);
    if (r.empty()) return std::nullopt;
    return r[0][0].as<std::string>();
}

std::optional<std::string> newestSuccessfulOutput(pqxx::transaction_base& t, int jobsetId,
                                                  const std::string& job)
{
    auto r = t.exec_params("select o.path from Builds b join BuildOutputs o on o.build = b.id where "
                           "b.jobset_id = $1 and b.job = $2 and b.finished = 1 and b.buildStatus = 0 and "
                           "o.path is not null order by b.id desc, o.name limit 1",
                           jobsetId, job);
    if (r.empty()) return std::nullopt;
    return r[0][0].as<std::string>();
}

std::vector<std::string> jobsetNames(pqxx::transaction_base& t, const std::string& project)
{
    std::vector<std::string> names;
    for (auto row : t.exec_params("select name from Jobsets where project = $1 order by name", project))
        names.push_back(row[0].as<std::string>());
    return names;
}

} // namespace hydra::db

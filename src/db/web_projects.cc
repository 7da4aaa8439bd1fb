#include "db/web_projects.hh"

#include "db/prepared.hh"
#include "db/sql_values.hh"

#include <map>

namespace hydra::db::web {

namespace {

std::string orEmpty(const pqxx::field& f)
{
    return f.is_null() ? std::string() : f.as<std::string>();
}

constexpr const char* projectColumns =
    "p.name, p.displayName, p.description, p.homepage, p.owner, p.enabled, p.hidden, "
    "p.enable_dynamic_run_command, p.declfile, p.decltype, p.declvalue, "
    "ARRAY(SELECT j.name FROM Jobsets j WHERE j.project = p.name ORDER BY j.name) AS jobsets";

Project readProject(const pqxx::row& r)
{
    Project p;
    p.name = r[0].as<std::string>();
    p.displayName = r[1].as<std::string>();
    p.description = orEmpty(r[2]);
    p.homepage = orEmpty(r[3]);
    p.owner = r[4].as<std::string>();
    p.enabled = r[5].as<int>() != 0;
    p.hidden = r[6].as<int>() != 0;
    p.enableDynamicRunCommand = r[7].as<bool>();
    p.declFile = sql::get<std::string>(r[8]);
    p.declType = sql::get<std::string>(r[9]);
    p.declValue = sql::get<std::string>(r[10]);
    p.jobsets = sql::readTextArray(r[11]);
    return p;
}

// Hydra's partial indexes answer each count from the index alone (no visit to the table's rows):
// finished ones by status from IndexBuildsJobsetIdCurrentFinishedStatus, queued ones from
// IndexBuildsJobsetIdCurrentUnfinished.
constexpr const char* jobsetQuery =
    "SELECT j.id, j.project, j.name, j.description, j.nixExprInput, j.nixExprPath, j.errorMsg, "
    "j.emailOverride, "
    "  j.fetchErrorMsg, j.flake, j.type, j.enabled, j.keepnr, j.checkInterval, j.schedulingShares, "
    "  j.enableEmail, j.hidden, j.enable_dynamic_run_command, j.errorTime, j.lastCheckedTime, j.triggerTime, "
    "  j.startTime, q.scheduled, f.succeeded, f.failed, q.scheduled + f.succeeded + f.failed "
    "FROM Jobsets j "
    "LEFT JOIN LATERAL (SELECT count(*) AS scheduled FROM Builds b "
    "  WHERE b.jobset_id = j.id AND b.isCurrent = 1 AND b.finished = 0) q ON true "
    "LEFT JOIN LATERAL (SELECT count(*) FILTER (WHERE b.buildStatus = 0) AS succeeded, "
    "    count(*) FILTER (WHERE b.buildStatus != 0) AS failed FROM Builds b "
    "  WHERE b.jobset_id = j.id AND b.isCurrent = 1 AND b.finished = 1) f ON true ";

Jobset readJobset(const pqxx::row& r)
{
    Jobset j;
    j.id = r[0].as<int>();
    j.project = r[1].as<std::string>();
    j.name = r[2].as<std::string>();
    j.description = orEmpty(r[3]);
    j.nixExprInput = orEmpty(r[4]);
    j.nixExprPath = orEmpty(r[5]);
    j.errorMsg = orEmpty(r[6]);
    j.emailOverride = orEmpty(r[7]);
    j.fetchErrorMsg = orEmpty(r[8]);
    j.flake = orEmpty(r[9]);
    j.type = r[10].as<int>();
    j.enabled = r[11].as<int>();
    j.keepNr = r[12].as<int>();
    j.checkInterval = r[13].as<int>();
    j.schedulingShares = r[14].as<int>();
    j.enableEmail = r[15].as<int>() != 0;
    j.hidden = r[16].as<int>() != 0;
    j.enableDynamicRunCommand = r[17].as<bool>();
    j.errorTime = sql::get<int64_t>(r[18]);
    j.lastCheckedTime = sql::get<int64_t>(r[19]);
    j.triggerTime = sql::get<int64_t>(r[20]);
    j.startTime = sql::get<int64_t>(r[21]);
    j.nrScheduled = r[22].as<int64_t>();
    j.nrSucceeded = r[23].as<int64_t>();
    j.nrFailed = r[24].as<int64_t>();
    j.nrTotal = r[25].as<int64_t>();
    return j;
}

constexpr const char* inputQuery =
    "SELECT i.jobset, i.name, i.type, i.emailResponsible, "
    "  (SELECT a.value FROM JobsetInputAlts a WHERE a.project = i.project "
    "     AND a.jobset = i.jobset AND a.input = i.name ORDER BY a.altnr LIMIT 1), i.project "
    "FROM JobsetInputs i ";

// The inputs of `jobsets`: of the whole project, or of its one jobset `only`. (Separate
// statements, not "$2 IS NULL OR ...": a prepared statement's plan must not depend on a value.)
void readInputs(pqxx::transaction_base& t, const std::string& project, std::vector<Jobset>& jobsets,
                const std::string* only = nullptr)
{
    std::map<std::string, Jobset*> byName;
    for (auto& j : jobsets) byName.emplace(j.name, &j);
    auto rows =
        only ? sql::execPrepared(t, "web_jobset_inputs",
                                 std::string(inputQuery) +
                                     "WHERE i.project = $1 AND i.jobset = $2 ORDER BY i.name",
                                 project, *only)
             : sql::execPrepared(t, "web_project_inputs",
                                 std::string(inputQuery) + "WHERE i.project = $1 ORDER BY i.jobset, i.name",
                                 project);
    for (const auto& r : rows) {
        auto it = byName.find(r[0].as<std::string>());
        if (it == byName.end()) continue;
        it->second->inputs.push_back(
            {r[1].as<std::string>(), r[2].as<std::string>(), orEmpty(r[4]), r[3].as<int>() != 0});
    }
}

} // namespace

std::vector<Project> listProjects(pqxx::transaction_base& t, bool withHidden)
{
    std::vector<Project> out;
    auto rows = sql::execPrepared(t, "web_projects_2",
                                  std::string("SELECT ") + projectColumns +
                                      " FROM Projects p WHERE p.hidden = 0 OR $1 ORDER BY p.name",
                                  withHidden);
    for (const auto& r : rows) out.push_back(readProject(r));
    return out;
}

std::optional<Project> findProject(pqxx::transaction_base& t, const std::string& name)
{
    auto rows = sql::execPrepared(
        t, "web_projects_3", std::string("SELECT ") + projectColumns + " FROM Projects p WHERE p.name = $1",
        name);
    if (rows.empty()) return std::nullopt;
    return readProject(rows[0]);
}

std::vector<Project> findProjects(pqxx::transaction_base& t, const std::vector<std::string>& names)
{
    std::vector<Project> out;
    for (const auto& r :
         sql::execPrepared(t, "web_projects_named",
                           std::string("SELECT ") + projectColumns +
                               " FROM Projects p WHERE p.name = ANY($1::text[]) ORDER BY p.name",
                           sql::textArray(names)))
        out.push_back(readProject(r));
    return out;
}

std::vector<Jobset> findJobsets(pqxx::transaction_base& t, const std::vector<int64_t>& ids)
{
    std::vector<Jobset> out;
    if (ids.empty()) return out;
    auto idArray = sql::intArray(ids);
    for (const auto& r : sql::execPrepared(t, "web_jobsets_by_id",
                                           std::string(jobsetQuery) +
                                               "WHERE j.id = ANY($1::integer[]) ORDER BY j.project, j.name",
                                           idArray))
        out.push_back(readJobset(r));
    std::map<std::pair<std::string, std::string>, Jobset*> byName;
    for (auto& j : out) byName.emplace(std::make_pair(j.project, j.name), &j);
    for (const auto& r : sql::execPrepared(
             t, "web_jobsets_by_id_inputs",
             std::string(inputQuery) + "JOIN Jobsets js ON js.project = i.project AND js.name = i.jobset "
                                       "WHERE js.id = ANY($1::integer[]) ORDER BY i.jobset, i.name",
             idArray))
        if (auto it = byName.find({r[5].as<std::string>(), r[0].as<std::string>()}); it != byName.end())
            it->second->inputs.push_back(
                {r[1].as<std::string>(), r[2].as<std::string>(), orEmpty(r[4]), r[3].as<int>() != 0});
    return out;
}

std::vector<Jobset> projectJobsets(pqxx::transaction_base& t, const std::string& project)
{
    std::vector<Jobset> out;
    for (const auto& r :
         sql::execPrepared(t, "web_project_jobsets",
                           std::string(jobsetQuery) + "WHERE j.project = $1 ORDER BY j.name", project))
        out.push_back(readJobset(r));
    readInputs(t, project, out);
    return out;
}

std::optional<Jobset> findJobset(pqxx::transaction_base& t, const std::string& project,
                                 const std::string& name)
{
    std::vector<Jobset> out;
    for (const auto& r :
         sql::execPrepared(t, "web_jobset", std::string(jobsetQuery) + "WHERE j.project = $1 AND j.name = $2",
                           project, name))
        out.push_back(readJobset(r));
    if (out.empty()) return std::nullopt;
    readInputs(t, project, out, &name);
    return std::move(out.front());
}

} // namespace hydra::db::web

#include "db/web_evals.hh"

#include "db/prepared.hh"
#include "db/sql_values.hh"

#include <algorithm>
#include <map>

namespace hydra::db::web {

namespace {

std::string orEmpty(const pqxx::field& f)
{
    return f.is_null() ? std::string() : f.as<std::string>();
}

constexpr const char* evalColumns =
    "e.id, e.jobset_id, j.project, j.name, e.timestamp, e.checkoutTime, e.evalTime, e.hasNewBuilds, e.flake, "
    "err.errorMsg, err.errorTime, e.nrBuilds, e.nrSucceeded";
constexpr const char* evalFrom = " FROM JobsetEvals e JOIN Jobsets j ON j.id = e.jobset_id "
                                 "LEFT JOIN EvaluationErrors err ON err.id = e.evaluationerror_id ";

Eval readEval(const pqxx::row& r)
{
    Eval e;
    e.id = r[0].as<int64_t>();
    e.jobsetId = r[1].as<int>();
    e.project = r[2].as<std::string>();
    e.jobset = r[3].as<std::string>();
    e.timestamp = r[4].as<int64_t>();
    e.checkoutTime = r[5].as<int64_t>();
    e.evalTime = r[6].as<int64_t>();
    e.hasNewBuilds = r[7].as<int>() != 0;
    e.flake = orEmpty(r[8]);
    e.errorMsg = orEmpty(r[9]);
    e.errorTime = sql::get<int64_t>(r[10]);
    e.nrBuilds = sql::get<int>(r[11]);
    e.nrSucceeded = sql::get<int>(r[12]);
    return e;
}

// Members and inputs of every evaluation in `evals`: two queries whatever their number.
void readMembersAndInputs(pqxx::transaction_base& t, std::vector<Eval>& evals, bool withMembers)
{
    if (evals.empty()) return;
    std::vector<int64_t> ids;
    std::map<int64_t, Eval*> byId;
    for (auto& e : evals) {
        ids.push_back(e.id);
        byId.emplace(e.id, &e);
    }
    auto idArray = sql::intArray(ids);
    if (withMembers)
        for (const auto& r : sql::execPrepared(t, "web_evals_1",
                                               "SELECT eval, build FROM JobsetEvalMembers WHERE eval = "
                                               "ANY($1::integer[]) ORDER BY eval, build",
                                               idArray))
            if (auto it = byId.find(r[0].as<int64_t>()); it != byId.end())
                it->second->builds.push_back(r[1].as<int64_t>());
    for (const auto& r :
         sql::execPrepared(t, "web_evals_2",
                           "SELECT eval, name, type, uri, revision, value, path, dependency "
                           "FROM JobsetEvalInputs WHERE eval = ANY($1::integer[]) AND altNr = 0 "
                           "ORDER BY eval, name",
                           idArray)) {
        EvalInput in;
        in.name = r[1].as<std::string>();
        in.type = r[2].as<std::string>();
        in.uri = orEmpty(r[3]);
        in.revision = orEmpty(r[4]);
        in.value = orEmpty(r[5]);
        in.path = orEmpty(r[6]);
        in.dependency = sql::get<int64_t>(r[7]);
        if (auto it = byId.find(r[0].as<int64_t>()); it != byId.end())
            it->second->inputs.push_back(std::move(in));
    }
}

EvalPage readPage(pqxx::transaction_base& t, const pqxx::result& rows, int64_t total, bool withMembers)
{
    EvalPage page;
    page.total = total;
    for (const auto& r : rows) page.evals.push_back(readEval(r));
    readMembersAndInputs(t, page.evals, withMembers);
    return page;
}

} // namespace

EvalPage jobsetEvals(pqxx::transaction_base& t, int jobsetId, int64_t offset, int64_t limit, bool withMembers)
{
    auto total = sql::execPrepared(
        t, "web_evals_3", "SELECT count(*) FROM JobsetEvals WHERE jobset_id = $1 AND hasNewBuilds = 1",
        jobsetId);
    auto rows = sql::execPrepared(t, "web_evals_4",
                                  std::string("SELECT ") + evalColumns + evalFrom +
                                      "WHERE e.jobset_id = $1 AND e.hasNewBuilds = 1 ORDER BY e.id DESC "
                                      "OFFSET $2 LIMIT $3",
                                  jobsetId, offset, limit);
    return readPage(t, rows, total[0][0].as<int64_t>(), withMembers);
}

std::vector<RunningEval> runningEvals(pqxx::transaction_base& t)
{
    std::vector<RunningEval> out;
    for (const auto& r : sql::execPrepared(t, "web_evals_running",
                                           "SELECT id, project, name, startTime FROM Jobsets "
                                           "WHERE startTime IS NOT NULL ORDER BY startTime, id"))
        out.push_back({.jobsetId = r[0].as<int>(),
                       .project = r[1].as<std::string>(),
                       .jobset = r[2].as<std::string>(),
                       .startTime = r[3].as<int64_t>()});
    return out;
}

EvalPage recentEvals(pqxx::transaction_base& t, int64_t offset, int64_t limit, bool withMembers)
{
    // Counted from Hydra's partial index of the evaluations that added builds (IndexJobsetIdEvals),
    // without reading the table's rows.
    auto total = sql::execPrepared(t, "web_evals_count_all",
                                   "SELECT count(*) FROM JobsetEvals WHERE hasNewBuilds = 1");
    auto rows = sql::execPrepared(t, "web_evals_5",
                                  std::string("SELECT ") + evalColumns + evalFrom +
                                      "WHERE e.hasNewBuilds = 1 ORDER BY e.id DESC OFFSET $1 LIMIT $2",
                                  offset, limit);
    return readPage(t, rows, total[0][0].as<int64_t>(), withMembers);
}

std::optional<Eval> findEval(pqxx::transaction_base& t, int64_t id)
{
    auto rows = sql::execPrepared(t, "web_evals_6",
                                  std::string("SELECT ") + evalColumns + evalFrom + "WHERE e.id = $1", id);
    if (rows.empty()) return std::nullopt;
    std::vector<Eval> evals{readEval(rows[0])};
    readMembersAndInputs(t, evals, true);
    return std::move(evals.front());
}

std::optional<int64_t> previousEval(pqxx::transaction_base& t, const Eval& eval)
{
    auto rows =
        sql::execPrepared(t, "web_evals_7",
                          "SELECT id FROM JobsetEvals WHERE jobset_id = $1 AND hasNewBuilds = 1 AND id < $2 "
                          "ORDER BY id DESC LIMIT 1",
                          eval.jobsetId, eval.id);
    if (rows.empty()) return std::nullopt;
    return rows[0][0].as<int64_t>();
}

std::optional<int64_t> latestFinishedEval(pqxx::transaction_base& t, int jobsetId)
{
    auto rows = sql::execPrepared(
        t, "web_evals_8",
        "SELECT e.id FROM JobsetEvals e WHERE e.jobset_id = $1 AND e.hasNewBuilds = 1 AND NOT EXISTS "
        "  (SELECT 1 FROM JobsetEvalMembers m JOIN Builds b ON b.id = m.build WHERE m.eval = e.id AND "
        "b.finished = 0) "
        "ORDER BY e.id DESC LIMIT 1",
        jobsetId);
    if (rows.empty()) return std::nullopt;
    return rows[0][0].as<int64_t>();
}

std::vector<EvalBuild> evalBuilds(pqxx::transaction_base& t, int64_t evalId)
{
    std::vector<EvalBuild> out;
    for (const auto& r :
         sql::execPrepared(t, "web_evals_9",
                           "SELECT b.id, b.job, b.system, b.nixName, b.finished, b.buildStatus, "
                           "b.stopTime FROM JobsetEvalMembers m JOIN Builds b ON b.id = m.build "
                           "WHERE m.eval = $1 ORDER BY b.job, b.system, b.id",
                           evalId)) {
        EvalBuild b;
        b.id = r[0].as<int64_t>();
        b.job = r[1].as<std::string>();
        b.system = r[2].as<std::string>();
        b.nixName = orEmpty(r[3]);
        b.finished = r[4].as<int>() != 0;
        b.buildStatus = sql::get<int>(r[5]);
        b.stopTime = sql::get<int64_t>(r[6]);
        out.push_back(std::move(b));
    }
    return out;
}

std::vector<std::string> evalStorePaths(pqxx::transaction_base& t, int64_t evalId)
{
    std::vector<std::string> out;
    for (const auto& r :
         sql::execPrepared(t, "web_evals_10",
                           "SELECT o.path FROM JobsetEvalMembers m JOIN Builds b ON b.id = m.build "
                           "JOIN BuildOutputs o ON o.build = b.id WHERE m.eval = $1 AND b.finished = 1 "
                           "AND b.buildStatus = 0 AND o.path IS NOT NULL ORDER BY o.path",
                           evalId))
        out.push_back(r[0].as<std::string>());
    return out;
}

std::optional<int64_t> evalJobBuild(pqxx::transaction_base& t, int64_t evalId, const std::string& job)
{
    auto rows = sql::execPrepared(t, "web_evals_11",
                                  "SELECT b.id FROM JobsetEvalMembers m JOIN Builds b ON b.id = m.build "
                                  "WHERE m.eval = $1 AND b.job = $2 ORDER BY b.id LIMIT 1",
                                  evalId, job);
    if (rows.empty()) return std::nullopt;
    return rows[0][0].as<int64_t>();
}

GridPage jobGrid(pqxx::transaction_base& t, const std::vector<int64_t>& evalIds, int64_t offset,
                 int64_t limit)
{
    GridPage page;
    if (evalIds.empty()) return page;
    auto newest = *std::max_element(evalIds.begin(), evalIds.end());
    // One job more than asked tells whether there is a next page without counting them all.
    auto rows = sql::execPrepared(
        t, "web_evals_grid",
        "WITH jobs AS (SELECT DISTINCT b.job FROM JobsetEvalMembers m JOIN Builds b ON b.id = m.build "
        "  WHERE m.eval = $2 ORDER BY b.job OFFSET $3 LIMIT $4 + 1), "
        "shown AS (SELECT job FROM jobs ORDER BY job LIMIT $4) "
        "SELECT m.eval, b.id, b.job, b.finished, b.buildStatus, (SELECT count(*) FROM jobs) > $4 FROM "
        "JobsetEvalMembers m "
        "JOIN Builds b ON b.id = m.build JOIN shown ON shown.job = b.job WHERE m.eval = ANY($1::integer[]) "
        "ORDER BY b.job, m.eval DESC",
        sql::intArray(evalIds), newest, offset, limit);
    for (const auto& r : rows) {
        page.cells.push_back({r[0].as<int64_t>(), r[1].as<int64_t>(), r[2].as<std::string>(),
                              r[3].as<int>() != 0, sql::get<int>(r[4])});
        page.hasMore = r[5].as<bool>();
    }
    return page;
}

} // namespace hydra::db::web

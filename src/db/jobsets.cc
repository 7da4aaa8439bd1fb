#include "db/jobsets.hh"

#include "db/sql_values.hh"
#include "util/error.hh"

#include <pqxx/pqxx>

namespace hydra::db {

namespace {

JobsetMode modeOf(int enabled)
{
    return enabled >= 0 && enabled <= 3 ? static_cast<JobsetMode>(enabled) : JobsetMode::Enabled;
}

std::string textOr(const pqxx::field& f)
{
    return f.is_null() ? std::string() : f.as<std::string>();
}

const char* const jobsetColumns = "SELECT j.id, j.project, j.name, j.type, j.nixExprInput, j.nixExprPath, "
                                  "j.flake, j.forceEval, j.enabled FROM Jobsets j ";

JobsetDefinition definitionOf(const pqxx::row& r)
{
    JobsetDefinition d;
    d.id = r[0].as<int>();
    d.project = r[1].as<std::string>();
    d.name = r[2].as<std::string>();
    d.type = r[3].as<int>();
    d.nixExprInput = textOr(r[4]);
    d.nixExprPath = textOr(r[5]);
    d.flake = textOr(r[6]);
    d.forceEval = !r[7].is_null() && r[7].as<bool>();
    d.mode = modeOf(r[8].as<int>());
    return d;
}

// The inputs of `d` and their alternatives, in one query.
void loadInputs(pqxx::transaction_base& t, JobsetDefinition& d)
{
    auto rows = t.exec_params("SELECT i.name, i.type, i.emailResponsible, a.altnr, a.value, a.revision "
                              "FROM JobsetInputs i LEFT JOIN JobsetInputAlts a "
                              "ON a.project = i.project AND a.jobset = i.jobset AND a.input = i.name "
                              "WHERE i.project = $1 AND i.jobset = $2 ORDER BY i.name, a.altnr",
                              d.project, d.name);
    for (auto r : rows) {
        auto name = r[0].as<std::string>();
        if (d.inputs.empty() || d.inputs.back().name != name)
            d.inputs.push_back({name, r[1].as<std::string>(), r[2].as<int>() != 0, {}});
        if (!r[3].is_null())
            d.inputs.back().alts.push_back({r[3].as<int>(), textOr(r[4]), sql::get<std::string>(r[5])});
    }
}

std::optional<JobsetDefinition> withInputs(pqxx::transaction_base& t, const pqxx::result& r)
{
    if (r.empty()) return std::nullopt;
    auto d = definitionOf(r[0]);
    loadInputs(t, d);
    return d;
}

void notify(pqxx::transaction_base& t, const char* channel, const std::string& payload)
{
    t.exec_params("SELECT pg_notify($1, $2)", channel, payload);
}

std::string evalPayload(const std::string& traceId, int jobsetId)
{
    // A tab would shift the fields every listener splits on.
    if (traceId.find('\t') != std::string::npos) throw Error("trace id '{}' contains a tab", traceId);
    return traceId + '\t' + std::to_string(jobsetId);
}

} // namespace

std::vector<JobsetState> jobsetsToSchedule(pqxx::transaction_base& t)
{
    std::vector<JobsetState> out;
    auto rows =
        t.exec("SELECT j.id, j.project, j.name, j.enabled, j.checkInterval, j.lastCheckedTime, "
               // Only one-at-a-time jobsets need the last evaluation's builds looked at:
               // on thousands of jobsets, every round would pay for it otherwise.
               "j.triggerTime, j.startTime, CASE WHEN j.enabled = 3 THEN EXISTS (SELECT 1 FROM "
               "  JobsetEvalMembers m JOIN Builds b ON b.id = m.build WHERE b.finished = 0 AND m.eval = "
               "  (SELECT max(e.id) FROM JobsetEvals e WHERE e.jobset_id = j.id)) ELSE false END "
               "FROM Jobsets j JOIN Projects p ON p.name = j.project "
               "WHERE j.enabled != 0 AND p.enabled = 1 ORDER BY j.id");
    for (auto r : rows) {
        JobsetState s;
        s.id = r[0].as<int>();
        s.project = r[1].as<std::string>();
        s.name = r[2].as<std::string>();
        s.mode = modeOf(r[3].as<int>());
        s.checkInterval = r[4].as<int>();
        s.lastCheckedTime = sql::get<int64_t>(r[5]);
        s.triggerTime = sql::get<int64_t>(r[6]);
        s.startTime = sql::get<int64_t>(r[7]);
        s.lastEvalHasUnfinished = r[8].as<bool>();
        out.push_back(std::move(s));
    }
    return out;
}

std::optional<JobsetDefinition> loadJobset(pqxx::transaction_base& t, int id)
{
    return withInputs(t, t.exec_params(std::string(jobsetColumns) + "WHERE j.id = $1", id));
}

std::optional<JobsetDefinition> loadJobset(pqxx::transaction_base& t, const std::string& project,
                                           const std::string& name)
{
    return withInputs(
        t, t.exec_params(std::string(jobsetColumns) + "WHERE j.project = $1 AND j.name = $2", project, name));
}

bool claimJobset(pqxx::transaction_base& t, int id, int64_t now)
{
    // Under READ COMMITTED a concurrent claimer waits on the row lock, then re-checks
    // startTime IS NULL against the committed row and updates nothing.
    return !t.exec_params(
                 "UPDATE Jobsets SET startTime = $2 WHERE id = $1 AND startTime IS NULL RETURNING id", id,
                 now)
                .empty();
}

void finishJobsetCheck(pqxx::transaction_base& t, int id, int64_t now)
{
    // Every right-hand side reads the row as it was before the update.
    t.exec_params("UPDATE Jobsets SET lastCheckedTime = $2, "
                  "triggerTime = CASE WHEN triggerTime <= startTime THEN NULL ELSE triggerTime END, "
                  "startTime = NULL WHERE id = $1",
                  id, now);
}

void markJobsetEvaluated(pqxx::transaction_base& t, int id)
{
    t.exec_params(
        "UPDATE Jobsets SET forceEval = false, enabled = CASE WHEN enabled = 2 THEN 0 ELSE enabled END "
        "WHERE id = $1",
        id);
}

void releaseJobset(pqxx::transaction_base& t, int id)
{
    t.exec_params("UPDATE Jobsets SET startTime = NULL WHERE id = $1", id);
}

void setJobsetError(pqxx::transaction_base& t, int id, int64_t now,
                    const std::optional<std::string>& errorMsg)
{
    auto time = errorMsg ? std::optional<std::string>(std::to_string(now)) : std::nullopt;
    t.exec_params("UPDATE Jobsets SET errorMsg = $2, errorTime = $3::integer WHERE id = $1", id,
                  sql::orNull(errorMsg), sql::orNull(time));
}

void setFetchError(pqxx::transaction_base& t, int id, const std::optional<std::string>& msg)
{
    t.exec_params("UPDATE Jobsets SET fetchErrorMsg = $2 WHERE id = $1", id, sql::orNull(msg));
}

int unlockJobsets(pqxx::transaction_base& t)
{
    return static_cast<int>(
        t.exec("UPDATE Jobsets SET startTime = NULL WHERE startTime IS NOT NULL").affected_rows());
}

std::optional<PreviousEval> latestEval(pqxx::transaction_base& t, int jobsetId)
{
    auto r = t.exec_params("SELECT id, hash FROM JobsetEvals WHERE jobset_id = $1 ORDER BY id DESC LIMIT 1",
                           jobsetId);
    if (r.empty()) return std::nullopt;
    return PreviousEval{r[0][0].as<int64_t>(), r[0][1].as<std::string>()};
}

void notifyEvalStarted(pqxx::transaction_base& t, const std::string& traceId, int jobsetId)
{
    notify(t, channel::evalStarted, evalPayload(traceId, jobsetId));
}

void notifyEvalFailed(pqxx::transaction_base& t, const std::string& traceId, int jobsetId)
{
    notify(t, channel::evalFailed, evalPayload(traceId, jobsetId));
}

void notifyEvalCached(pqxx::transaction_base& t, const std::string& traceId, int jobsetId, int64_t prevEvalId)
{
    notify(t, channel::evalCached, evalPayload(traceId, jobsetId) + '\t' + std::to_string(prevEvalId));
}

void notifyEvalProgress(pqxx::transaction_base& t, const std::string& traceId, int jobsetId, size_t jobs)
{
    notify(t, channel::evalProgress, evalPayload(traceId, jobsetId) + '\t' + std::to_string(jobs));
}

} // namespace hydra::db

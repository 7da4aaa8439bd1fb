#include "db/build_actions.hh"

#include <pqxx/pqxx>

#include "db/sql_values.hh"

#include <algorithm>
#include <limits>
#include <string>

namespace hydra::db {

namespace {

// Builds.id and JobsetEvals.id are `integer`: a larger id names nothing (and as a parameter it
// would make PostgreSQL refuse the statement instead of finding no row).
bool fitsInteger(int64_t id)
{
    return id > 0 && id <= std::numeric_limits<int32_t>::max();
}

std::string idArray(std::span<const int64_t> ids)
{
    std::vector<int64_t> kept;
    std::copy_if(ids.begin(), ids.end(), std::back_inserter(kept), fitsInteger);
    return sql::intArray(kept);
}

std::vector<int64_t> idsOf(const pqxx::result& rows)
{
    std::vector<int64_t> out;
    out.reserve(rows.size());
    for (const auto& r : rows) out.push_back(r[0].as<int64_t>());
    std::sort(out.begin(), out.end());
    return out;
}

bool evalExists(pqxx::transaction_base& t, int64_t evalId)
{
    return fitsInteger(evalId) && !t.exec_params("SELECT 1 FROM JobsetEvals WHERE id = $1", evalId).empty();
}

std::vector<int64_t> queuedMembers(pqxx::transaction_base& t, int64_t evalId)
{
    return idsOf(t.exec_params("SELECT b.id FROM JobsetEvalMembers m JOIN Builds b ON b.id = m.build "
                               "WHERE m.eval = $1 AND b.finished = 0",
                               evalId));
}

} // namespace

std::optional<std::string> projectOfBuild(pqxx::transaction_base& t, int64_t buildId)
{
    if (!fitsInteger(buildId)) return std::nullopt;
    auto rows = t.exec_params(
        "SELECT j.project FROM Builds b JOIN Jobsets j ON j.id = b.jobset_id WHERE b.id = $1", buildId);
    if (rows.empty()) return std::nullopt;
    return rows[0][0].as<std::string>();
}

std::optional<std::string> projectOfEval(pqxx::transaction_base& t, int64_t evalId)
{
    if (!fitsInteger(evalId)) return std::nullopt;
    auto rows = t.exec_params(
        "SELECT j.project FROM JobsetEvals e JOIN Jobsets j ON j.id = e.jobset_id WHERE e.id = $1", evalId);
    if (rows.empty()) return std::nullopt;
    return rows[0][0].as<std::string>();
}

std::vector<int64_t> restartBuilds(pqxx::transaction_base& t, std::span<const int64_t> ids)
{
    // Locked first, so that the evaluations and failed paths cleared are those of exactly the
    // builds requeued.
    auto target = idsOf(t.exec_params(
        "SELECT id FROM Builds WHERE id = ANY($1::integer[]) AND finished = 1 FOR UPDATE", idArray(ids)));
    if (target.empty()) return target;
    auto array = sql::intArray(target);
    // Hydra counts an evaluation's successes once all its builds are done; that count is stale now.
    t.exec_params("UPDATE JobsetEvals SET nrSucceeded = NULL WHERE nrSucceeded IS NOT NULL AND id IN "
                  "(SELECT eval FROM JobsetEvalMembers WHERE build = ANY($1::integer[]))",
                  array);
    // A path left in FailedPaths would fail the rebuilt step at once as a cached failure.
    t.exec_params("DELETE FROM FailedPaths WHERE path IN ("
                  "SELECT path FROM BuildOutputs WHERE build = ANY($1::integer[]) "
                  "UNION SELECT path FROM BuildStepOutputs WHERE build = ANY($1::integer[]))",
                  array);
    return idsOf(t.exec_params(
        "UPDATE Builds SET finished = 0, isCachedBuild = 0, buildStatus = NULL, startTime = NULL, "
        "stopTime = NULL WHERE id = ANY($1::integer[]) RETURNING id",
        array));
}

std::vector<int64_t> cancelBuilds(pqxx::transaction_base& t, std::span<const int64_t> ids, int64_t now)
{
    return idsOf(t.exec_params("UPDATE Builds SET finished = 1, isCachedBuild = 0, buildStatus = 4, "
                               "startTime = $2, stopTime = $2 "
                               "WHERE id = ANY($1::integer[]) AND finished = 0 RETURNING id",
                               idArray(ids), now));
}

std::vector<int64_t> bumpBuilds(pqxx::transaction_base& t, std::span<const int64_t> ids, int64_t now)
{
    return idsOf(t.exec_params("UPDATE Builds SET globalPriority = $2 "
                               "WHERE id = ANY($1::integer[]) AND finished = 0 RETURNING id",
                               idArray(ids), now));
}

bool setBuildKeep(pqxx::transaction_base& t, int64_t id, bool keep)
{
    if (!fitsInteger(id)) return false;
    return t.exec_params("UPDATE Builds SET keep = $2 WHERE id = $1", id, keep ? 1 : 0).affected_rows() == 1;
}

std::optional<int> restartEvalBuilds(pqxx::transaction_base& t, int64_t evalId, EvalRestart which)
{
    if (!evalExists(t, evalId)) return std::nullopt;
    // As Hydra: a finished build whose status is not 0 failed; 3, 4 and 9 are the outcomes a
    // rebuild may well change without any change to the build itself.
    const char* condition =
        which == EvalRestart::Failed ? "b.buildStatus <> 0" : "b.buildStatus IN (3, 4, 9)";
    auto ids = idsOf(t.exec_params(std::string("SELECT b.id FROM JobsetEvalMembers m JOIN Builds b ON b.id = "
                                               "m.build WHERE m.eval = $1 AND b.finished = 1 AND ") +
                                       condition,
                                   evalId));
    return static_cast<int>(restartBuilds(t, ids).size());
}

std::optional<int> cancelEvalBuilds(pqxx::transaction_base& t, int64_t evalId, int64_t now)
{
    if (!evalExists(t, evalId)) return std::nullopt;
    return static_cast<int>(cancelBuilds(t, queuedMembers(t, evalId), now).size());
}

std::optional<int> bumpEvalBuilds(pqxx::transaction_base& t, int64_t evalId, int64_t now)
{
    if (!evalExists(t, evalId)) return std::nullopt;
    return static_cast<int>(bumpBuilds(t, queuedMembers(t, evalId), now).size());
}

} // namespace hydra::db

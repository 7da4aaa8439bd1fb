#include "db/queue_store.hh"

#include <pqxx/pqxx>

#include "db/sql_values.hh"

namespace hydra::db {

std::vector<BuildId> queuedBuildIds(pqxx::transaction_base& t, BuildId fromId)
{
    std::vector<BuildId> out;
    for (auto row :
         t.exec_params("SELECT id FROM Builds WHERE finished = 0 AND id >= $1 ORDER BY id", fromId))
        out.push_back(row[0].as<BuildId>());
    return out;
}

std::vector<QueuedBuild> loadQueuedBuilds(pqxx::transaction_base& t, std::span<const BuildId> ids)
{
    std::vector<QueuedBuild> out;
    if (ids.empty()) return out;
    // Finished rows are left out here, not in the query: with `AND b.finished = 0` PostgreSQL
    // walked the partial index of unfinished builds and tested every queued build against the
    // page's ids, for every page (6 s of its CPU loading 200,000 builds); by id alone it can
    // only use the primary key.
    auto res =
        t.exec_params("SELECT b.finished, b.id, b.drvPath, b.jobset_id, j.project, j.name, b.job, b.system, "
                      "  b.globalPriority, b.priority, COALESCE(b.maxsilent, 3600), "
                      "  COALESCE(b.timeout, 36000), b.timestamp, j.schedulingShares "
                      "FROM Builds b JOIN Jobsets j ON j.id = b.jobset_id "
                      "WHERE b.id = ANY($1::integer[]) ORDER BY b.id",
                      sql::intArray(ids));
    out.reserve(res.size());
    for (auto row : res) {
        if (row[0].as<int>() != 0) continue;
        QueuedBuild b;
        b.id = row[1].as<BuildId>();
        b.drvPath = row[2].as<std::string>();
        b.jobsetId = row[3].as<int>();
        b.project = row[4].as<std::string>();
        b.jobset = row[5].as<std::string>();
        b.job = row[6].as<std::string>();
        b.system = row[7].as<std::string>();
        b.globalPriority = row[8].as<int>();
        b.priority = row[9].as<int>();
        b.maxSilent = row[10].as<int>();
        b.timeout = row[11].as<int>();
        b.timestamp = row[12].as<int64_t>();
        b.schedulingShares = row[13].as<int>();
        out.push_back(std::move(b));
    }
    return out;
}

std::vector<QueuedPriority> queuedBuildPriorities(pqxx::transaction_base& t)
{
    std::vector<QueuedPriority> out;
    for (auto row : t.exec("SELECT id, globalPriority FROM Builds WHERE finished = 0 ORDER BY id"))
        out.push_back({row[0].as<BuildId>(), row[1].as<int>()});
    return out;
}

std::vector<BuildState> buildStates(pqxx::transaction_base& t, std::span<const BuildId> ids)
{
    std::vector<BuildState> out;
    if (ids.empty()) return out;
    auto res = t.exec_params("SELECT id, finished, buildStatus, globalPriority FROM Builds "
                             "WHERE id = ANY($1::integer[]) ORDER BY id",
                             sql::intArray(ids));
    for (auto row : res) {
        BuildState s;
        s.id = row[0].as<BuildId>();
        s.finished = row[1].as<int>() != 0;
        if (auto st = sql::get<int>(row[2])) s.status = static_cast<BuildStatus>(*st);
        s.globalPriority = row[3].as<int>();
        out.push_back(s);
    }
    return out;
}

bool isBuildQueued(pqxx::transaction_base& t, BuildId id)
{
    return !t.exec_params("SELECT 1 FROM Builds WHERE id = $1 AND finished = 0", id).empty();
}

std::vector<JobsetShares> jobsetShares(pqxx::transaction_base& t)
{
    std::vector<JobsetShares> out;
    for (auto row : t.exec("SELECT id, project, name, schedulingShares FROM Jobsets ORDER BY id"))
        out.push_back(
            {row[0].as<int>(), row[1].as<std::string>(), row[2].as<std::string>(), row[3].as<int>()});
    return out;
}

std::vector<RecentStep> recentSteps(pqxx::transaction_base& t, int64_t since)
{
    auto res =
        t.exec_params("SELECT b.jobset_id, j.project, j.name, b.job, s.drvPath, s.drvPath = b.drvPath, "
                      "  COALESCE(s.status = 0, false), s.startTime, s.stopTime "
                      "FROM BuildSteps s JOIN Builds b ON b.id = s.build "
                      "  JOIN Jobsets j ON j.id = b.jobset_id "
                      "WHERE s.startTime IS NOT NULL AND s.stopTime > $1 AND s.type = 0 "
                      "  AND s.propagatedFrom IS NULL "
                      "ORDER BY s.stopTime, s.build, s.stepnr",
                      since);
    std::vector<RecentStep> out;
    out.reserve(res.size());
    for (auto row : res)
        out.push_back({.jobsetId = row[0].as<int>(),
                       .project = row[1].as<std::string>(),
                       .jobset = row[2].as<std::string>(),
                       .job = row[3].as<std::string>(),
                       .drvPath = row[4].as<std::string>(),
                       .topLevel = row[5].as<bool>(),
                       .succeeded = row[6].as<bool>(),
                       .startTime = row[7].as<int64_t>(),
                       .stopTime = row[8].as<int64_t>()});
    return out;
}

std::vector<BuildId> buildsWithPendingNotification(pqxx::transaction_base& t)
{
    std::vector<BuildId> out;
    for (auto row : t.exec("SELECT id FROM Builds WHERE notificationPendingSince IS NOT NULL ORDER BY id"))
        out.push_back(row[0].as<BuildId>());
    return out;
}

bool clearNotificationPending(pqxx::transaction_base& t, BuildId id)
{
    auto r = t.exec_params("UPDATE Builds SET notificationPendingSince = NULL "
                           "WHERE id = $1 AND notificationPendingSince IS NOT NULL",
                           id);
    return r.affected_rows() == 1;
}

} // namespace hydra::db

#include "db/web_queue.hh"

#include "db/prepared.hh"

#include "db/sql_values.hh"

namespace hydra::db::web {

namespace {

constexpr const char* stepColumns =
    "SELECT s.build, s.stepnr, s.type, s.busy, s.drvPath, s.machine, s.system, s.errorMsg, s.status, "
    "s.startTime, "
    "s.stopTime, s.propagatedFrom, j.project, j.name, b.job, b.nixName "
    "FROM BuildSteps s JOIN Builds b ON b.id = s.build JOIN Jobsets j ON j.id = b.jobset_id ";

std::string orEmpty(const pqxx::field& f)
{
    return f.is_null() ? std::string() : f.as<std::string>();
}

std::vector<StepOfBuild> readSteps(const pqxx::result& rows)
{
    std::vector<StepOfBuild> out;
    out.reserve(rows.size());
    for (const auto& r : rows) {
        StepOfBuild s;
        s.step.build = r[0].as<int64_t>();
        s.step.stepNr = r[1].as<int>();
        s.step.type = r[2].as<int>();
        s.step.busy = r[3].as<int>();
        s.step.drvPath = r[4].as<std::string>();
        s.step.machine = orEmpty(r[5]);
        s.step.system = orEmpty(r[6]);
        s.step.errorMsg = orEmpty(r[7]);
        s.step.status = sql::get<int>(r[8]);
        s.step.startTime = sql::get<int64_t>(r[9]);
        s.step.stopTime = sql::get<int64_t>(r[10]);
        s.step.propagatedFrom = sql::get<int64_t>(r[11]);
        s.project = r[12].as<std::string>();
        s.jobset = r[13].as<std::string>();
        s.job = r[14].as<std::string>();
        s.nixName = orEmpty(r[15]);
        out.push_back(std::move(s));
    }
    return out;
}

} // namespace

std::vector<int64_t> queuedBuildIds(pqxx::transaction_base& t, int64_t offset, int64_t limit)
{
    std::vector<int64_t> ids;
    for (const auto& r : sql::execPrepared(t, "web_queue_1",
                                           "SELECT id FROM Builds WHERE finished = 0 "
                                           "ORDER BY globalPriority DESC, id OFFSET $1 LIMIT $2",
                                           offset, limit))
        ids.push_back(r[0].as<int64_t>());
    return ids;
}

QueueSummary queueSummary(pqxx::transaction_base& t)
{
    QueueSummary s;
    for (const auto& r :
         sql::execPrepared(t, "web_queue_4",
                           "SELECT j.project, j.name, count(*) AS queued, min(b.timestamp), max(b.timestamp) "
                           "FROM Builds b JOIN Jobsets j ON j.id = b.jobset_id WHERE b.finished = 0 "
                           "GROUP BY j.project, j.name ORDER BY queued DESC, j.project, j.name"))
        s.jobsets.push_back({r[0].as<std::string>(), r[1].as<std::string>(), r[2].as<int64_t>(),
                             r[3].as<int64_t>(), r[4].as<int64_t>()});
    for (const auto& r : sql::execPrepared(t, "web_queue_5",
                                           "SELECT system, count(*) AS queued FROM Builds WHERE finished = 0 "
                                           "GROUP BY system ORDER BY queued DESC, system"))
        s.systems.push_back({r[0].as<std::string>(), r[1].as<int64_t>()});
    return s;
}

std::vector<StepOfBuild> runningSteps(pqxx::transaction_base& t, int64_t limit)
{
    return readSteps(
        sql::execPrepared(t, "web_queue_2",
                          std::string(stepColumns) +
                              "WHERE s.busy != 0 ORDER BY b.globalPriority DESC, b.id, s.stepnr LIMIT $1",
                          limit));
}

std::vector<StepOfBuild> finishedSteps(pqxx::transaction_base& t, int64_t offset, int64_t limit)
{
    // The conditions are the index's own, so PostgreSQL walks it newest first and stops early.
    return readSteps(sql::execPrepared(t, "web_queue_3",
                                       std::string(stepColumns) +
                                           "WHERE s.startTime IS NOT NULL AND s.stopTime IS NOT NULL "
                                           "ORDER BY s.stopTime DESC OFFSET $1 LIMIT $2",
                                       offset, limit));
}

} // namespace hydra::db::web

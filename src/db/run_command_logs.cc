#include "db/run_command_logs.hh"

#include "db/prepared.hh"
#include "db/sql_values.hh"

#include <pqxx/pqxx>

namespace hydra::db {

std::optional<RunCommandLogRow> createRunCommandLog(pqxx::transaction_base& t, BuildId build,
                                                    const std::string& jobMatcher, const std::string& command,
                                                    int64_t startTime,
                                                    std::optional<int64_t> unlessEndedSince)
{
    auto since = sql::text(unlessEndedSince);
    auto r = sql::execPrepared(
        t, "hydra_create_run_command_log",
        "INSERT INTO RunCommandLogs (job_matcher, build_id, command, uuid, start_time) "
        "SELECT $1, $2, $3, gen_random_uuid(), $4 WHERE $5::integer IS NULL OR NOT EXISTS ("
        "  SELECT 1 FROM RunCommandLogs WHERE build_id = $2 AND job_matcher = $1 AND command = $3 "
        "    AND start_time >= $5::integer AND end_time IS NOT NULL) "
        "RETURNING id, uuid::text",
        jobMatcher, build, command, startTime, sql::orNull(since));
    if (r.empty()) return std::nullopt;
    return RunCommandLogRow{r[0][0].as<int64_t>(), r[0][1].as<std::string>()};
}

void markRunCommandEnded(pqxx::transaction_base& t, int64_t id, const RunCommandOutcome& o)
{
    auto exitCode = sql::text(o.exitCode);
    auto signal = sql::text(o.signal);
    auto coreDumped = sql::text(o.coreDumped);
    auto errorNumber = sql::text(o.errorNumber);
    sql::execPrepared(
        t, "hydra_mark_run_command_ended",
        "UPDATE RunCommandLogs SET end_time = $2, exit_code = $3, signal = $4, core_dumped = $5, "
        "  error_number = $6 WHERE id = $1",
        id, o.endTime, sql::orNull(exitCode), sql::orNull(signal), sql::orNull(coreDumped),
        sql::orNull(errorNumber));
}

} // namespace hydra::db

#pragma once
// RunCommandLogs rows: one per RunCommand execution, created before the command starts and
// completed when it ends, so a row without end_time is a run that was interrupted.

#include "db/build_results.hh"

#include <cstdint>
#include <optional>
#include <pqxx/transaction_base>
#include <string>

namespace hydra::db {

/// A created RunCommandLogs row: its id and the uuid naming its log file.
struct RunCommandLogRow {
    int64_t id = 0;
    std::string uuid;
};

/// How a command ended; unset fields are stored as NULL.
struct RunCommandOutcome {
    int64_t endTime = 0;
    std::optional<int> exitCode;
    std::optional<int> signal;
    std::optional<bool> coreDumped;
    std::optional<int> errorNumber; ///< the command could not be started (errno)
};

/// Inserts the row of a command starting now (fresh uuid, start_time set, no end yet). With
/// `unlessEndedSince`, inserts nothing (nullopt) when the same command of the same block
/// already ran to its end, whatever the outcome, for `build` at or after that time: the
/// notification was handled before a restart. One statement, check and insert together.
std::optional<RunCommandLogRow> createRunCommandLog(pqxx::transaction_base& t, BuildId build,
                                                    const std::string& jobMatcher, const std::string& command,
                                                    int64_t startTime,
                                                    std::optional<int64_t> unlessEndedSince = std::nullopt);

/// Sets end_time and how the command ended.
void markRunCommandEnded(pqxx::transaction_base& t, int64_t id, const RunCommandOutcome& o);

} // namespace hydra::db

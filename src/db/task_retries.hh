#pragma once
// TaskRetries rows: a notification a plugin failed to handle, and when to try it again.
// They live in the database so a failed notification survives a restart of hydra-notify.

#include "db/build_results.hh"

#include <cstdint>
#include <pqxx/transaction_base>
#include <string>
#include <vector>

namespace hydra::db {

/// One TaskRetries row.
struct TaskRetry {
    int64_t id = 0;
    std::string channel;
    std::string pluginName;
    std::string payload;
    int attempts = 0; ///< failed attempts so far
    int64_t retryAt = 0;
};

/// Records a first failure; returns the row's id.
int64_t addTaskRetry(pqxx::transaction_base& t, const std::string& channel, const std::string& pluginName,
                     const std::string& payload, int attempts, int64_t retryAt);

/// Records one more failure of row `id`.
void rescheduleTaskRetry(pqxx::transaction_base& t, int64_t id, int attempts, int64_t retryAt);

/// Removes row `id` (handled, or given up).
void deleteTaskRetry(pqxx::transaction_base& t, int64_t id);

/// Rows due at `now`, earliest first, at most `limit`.
std::vector<TaskRetry> dueTaskRetries(pqxx::transaction_base& t, int64_t now, int limit);

} // namespace hydra::db

#include "db/task_retries.hh"

#include <pqxx/pqxx>

namespace hydra::db {

int64_t addTaskRetry(pqxx::transaction_base& t, const std::string& channel, const std::string& pluginName,
                     const std::string& payload, int attempts, int64_t retryAt)
{
    return t
        .exec_params1("INSERT INTO TaskRetries (channel, pluginname, payload, attempts, retry_at) "
                      "VALUES ($1, $2, $3, $4, $5) RETURNING id",
                      channel, pluginName, payload, attempts, retryAt)[0]
        .as<int64_t>();
}

void rescheduleTaskRetry(pqxx::transaction_base& t, int64_t id, int attempts, int64_t retryAt)
{
    t.exec_params("UPDATE TaskRetries SET attempts = $2, retry_at = $3 WHERE id = $1", id, attempts, retryAt);
}

void deleteTaskRetry(pqxx::transaction_base& t, int64_t id)
{
    t.exec_params("DELETE FROM TaskRetries WHERE id = $1", id);
}

std::vector<TaskRetry> dueTaskRetries(pqxx::transaction_base& t, int64_t now, int limit)
{
    std::vector<TaskRetry> out;
    for (auto row :
         t.exec_params("SELECT id, channel, pluginname, payload, attempts, retry_at FROM TaskRetries "
                       "WHERE retry_at <= $1 ORDER BY retry_at, id LIMIT $2",
                       now, limit))
        out.push_back({row[0].as<int64_t>(), row[1].as<std::string>(), row[2].as<std::string>(),
                       row[3].as<std::string>(), row[4].as<int>(), row[5].as<int64_t>()});
    return out;
}

} // namespace hydra::db

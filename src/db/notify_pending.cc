#include "db/notify_pending.hh"

#include "db/prepared.hh"
#include "db/sql_values.hh"

#include <pqxx/pqxx>

namespace hydra::db {

std::vector<PendingNotification> pendingNotifications(pqxx::transaction_base& t)
{
    std::vector<PendingNotification> out;
    for (auto row : t.exec("SELECT b.id, r.pluginname FROM Builds b LEFT JOIN TaskRetries r "
                           "ON r.channel = 'build_finished' "
                           "AND b.id::text = ANY(string_to_array(r.payload, E'\\t')) "
                           "WHERE b.notificationPendingSince IS NOT NULL ORDER BY b.id, r.pluginname")) {
        auto id = row[0].as<BuildId>();
        if (out.empty() || out.back().build != id) out.push_back({id, {}});
        if (!row[1].is_null()) {
            auto& plugins = out.back().retryingPlugins;
            auto name = row[1].as<std::string>();
            if (plugins.empty() || plugins.back() != name) plugins.push_back(std::move(name));
        }
    }
    return out;
}

std::optional<int64_t> notificationPendingSince(pqxx::transaction_base& t, BuildId build)
{
    auto r = t.exec_params("SELECT notificationPendingSince FROM Builds WHERE id = $1", build);
    if (r.empty()) return std::nullopt;
    return sql::get<int64_t>(r[0][0]);
}

std::vector<BuildId> clearNotificationPending(pqxx::transaction_base& t, std::span<const BuildId> builds)
{
    std::vector<BuildId> out;
    if (builds.empty()) return out;
    // The ids come through ARRAY(SELECT ...), which hides their number from the planner: a
    // custom plan then costs what the generic one does, and the prepared statement keeps the
    // generic plan. With `= ANY($1)` it was planned anew at every call, and planning an update of
    // Builds (many indexes) cost PostgreSQL as much as running it.
    for (auto row :
         sql::execPrepared(t, "hydra_clear_notification_pending",
                           "UPDATE Builds b SET notificationPendingSince = NULL "
                           "WHERE b.id = ANY(ARRAY(SELECT unnest($1::bigint[]))) AND "
                           "b.notificationPendingSince IS NOT NULL "
                           "AND NOT EXISTS ("
                           "  SELECT 1 FROM TaskRetries r WHERE r.channel = 'build_finished' "
                           "  AND b.id::text = ANY(string_to_array(r.payload, E'\\t'))) RETURNING b.id",
                           sql::intArray(builds)))
        out.push_back(row[0].as<BuildId>());
    return out;
}

} // namespace hydra::db

#pragma once
// Builds.notificationPendingSince as hydra-notify uses it: set by whoever finishes a build,
// cleared once every plugin has handled that build's build_finished.

#include "db/build_results.hh"

#include <cstdint>
#include <optional>
#include <pqxx/transaction_base>
#include <span>
#include <string>
#include <vector>

namespace hydra::db {

/// A build whose build_finished is not fully handled yet.
struct PendingNotification {
    BuildId build = 0;
    std::vector<std::string> retryingPlugins; ///< plugins with a TaskRetries row for it, by name
};

/// Every pending build, by id, with the plugins already retrying its build_finished: one
/// query, however long the backlog after a long stop.
std::vector<PendingNotification> pendingNotifications(pqxx::transaction_base& t);

/// notificationPendingSince of `build` (nullopt: not pending, or no such build).
std::optional<int64_t> notificationPendingSince(pqxx::transaction_base& t, BuildId build);

/// Clears notificationPendingSince of each of `builds` that no TaskRetries row of
/// build_finished still names; returns the builds cleared.
std::vector<BuildId> clearNotificationPending(pqxx::transaction_base& t, std::span<const BuildId> builds);

} // namespace hydra::db

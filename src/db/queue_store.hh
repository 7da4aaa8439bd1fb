#pragma once
// What the queue runner reads about the queue: queued builds in pages, the state of known builds,
// priorities, jobset shares and recent steps, builds whose notification is pending.

#include <cstdint>
#include <optional>
#include <pqxx/transaction_base>
#include <span>
#include <string>
#include <vector>

#include "db/build_status.hh"

namespace hydra::db {

using BuildId = int64_t;

/// A queued build with everything the scheduler needs to turn it into steps.
struct QueuedBuild {
    BuildId id = 0;
    std::string drvPath;
    int jobsetId = 0;
    std::string project;
    std::string jobset;
    std::string job;
    std::string system;
    int globalPriority = 0;
    int priority = 0;
    int maxSilent = 3600; ///< seconds; Hydra's default when the column is NULL
    int timeout = 36000;  ///< seconds; Hydra's default when the column is NULL
    int64_t timestamp = 0;
    int schedulingShares = 100;
};

/// The ids of the queued builds with id >= fromId, in id order: one pass over the queue, where
/// paging by `id >= last` would plan a scan of the whole queue for every page. Builds committed
/// out of order are found by calling again from the lowest id that builds_added announced.
std::vector<BuildId> queuedBuildIds(pqxx::transaction_base& t, BuildId fromId);

/// Those of the builds `ids` that are still queued, in id order: a page of queuedBuildIds'.
std::vector<QueuedBuild> loadQueuedBuilds(pqxx::transaction_base& t, std::span<const BuildId> ids);

/// One queued build's id and current global priority (for builds_bumped and cancel diffing).
struct QueuedPriority {
    BuildId id = 0;
    int globalPriority = 0;
};

/// Every queued build (finished = 0) with its global priority, in id order.
std::vector<QueuedPriority> queuedBuildPriorities(pqxx::transaction_base& t);

/// Where a known build stands now: builds_cancelled / builds_restarted / builds_deleted diffing.
struct BuildState {
    BuildId id = 0;
    bool finished = false;
    std::optional<BuildStatus> status; ///< set once finished
    int globalPriority = 0;
};

/// States of the given builds, in id order; ids missing from the result were deleted.
std::vector<BuildState> buildStates(pqxx::transaction_base& t, std::span<const BuildId> ids);

/// True when build `id` exists and is still queued (finished = 0).
bool isBuildQueued(pqxx::transaction_base& t, BuildId id);

/// A jobset's scheduling shares (for jobset_shares_changed).
struct JobsetShares {
    int id = 0;
    std::string project;
    std::string name;
    int shares = 100;
};

/// All jobsets with their scheduling shares, in id order.
std::vector<JobsetShares> jobsetShares(pqxx::transaction_base& t);

/// A build step that ran in the recent past, for the fair share and expected durations a
/// queue runner starts with.
struct RecentStep {
    int jobsetId = 0;
    std::string project;
    std::string jobset;
    std::string job;
    std::string drvPath;
    bool topLevel = false;  ///< the build's own derivation
    bool succeeded = false; ///< status 0
    int64_t startTime = 0;  ///< Unix seconds
    int64_t stopTime = 0;
};

/// Build steps (not substitutions, not results copied from another build) that stopped after
/// `since` (Unix seconds), in stop order.
std::vector<RecentStep> recentSteps(pqxx::transaction_base& t, int64_t since);

/// Finished builds whose build_finished notification has not been fully handled, in id order.
std::vector<BuildId> buildsWithPendingNotification(pqxx::transaction_base& t);

/// Clears notificationPendingSince once build_finished has been handled; false if it was not set.
bool clearNotificationPending(pqxx::transaction_base& t, BuildId id);

} // namespace hydra::db

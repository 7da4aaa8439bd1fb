#pragma once
// Reading the light build lists of Hydra's /api: one query each, however long the list.

#include <cstdint>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

namespace hydra::db::web {

/// A build as /api/latestbuilds and /api/queue show it.
struct ApiBuild {
    int64_t id = 0, timestamp = 0;
    std::string project, jobset, job, system, nixName;
    bool finished = false;
    std::optional<int> buildStatus;
    int priority = 0;
};

/// What /api/latestbuilds narrows to; an absent or empty field matches every build.
struct ApiBuildFilter {
    std::optional<std::string> project, jobset, job, system;
};

/// The newest `nr` finished builds that match `filter`, newest first.
std::vector<ApiBuild> latestFinishedBuilds(pqxx::transaction_base& t, const ApiBuildFilter& filter,
                                           int64_t nr);

/// The first `nr` queued builds, by priority then id.
std::vector<ApiBuild> queuedBuilds(pqxx::transaction_base& t, int64_t nr);

/// How many builds are queued.
int64_t queuedBuildCount(pqxx::transaction_base& t);

} // namespace hydra::db::web

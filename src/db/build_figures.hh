#pragma once
// What the chat and metrics plugins report about a finished build beyond its description:
// sizes, whether it came from the cache, and the status of the job's previous build.

#include "db/build_description.hh"

#include <cstdint>
#include <optional>
#include <pqxx/transaction_base>

namespace hydra::db {

/// Builds columns the InfluxDB plugin reports (NULL counts as 0 / false, as Hydra does).
struct BuildFigures {
    bool isCachedBuild = false;
    int64_t size = 0;
    int64_t closureSize = 0;
};

/// The figures of build `id`, or nullopt if it does not exist.
std::optional<BuildFigures> loadBuildFigures(pqxx::transaction_base& t, BuildId id);

/// The status of the job's previous finished build on the same system, skipping aborted and
/// cancelled ones (Hydra's getPreviousBuild); nullopt when there is none.
std::optional<int> previousBuildStatus(pqxx::transaction_base& t, const BuildDescription& build);

} // namespace hydra::db

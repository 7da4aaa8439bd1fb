#pragma once
// BuildDescription: a build as the notification plugins see it, with Hydra's field names
// (RunCommand's HYDRA_JSON, e-mails, commit statuses, Slack, InfluxDB).

#include "db/build_results.hh"

#include <cstdint>
#include <optional>
#include <pqxx/transaction_base>
#include <string>
#include <vector>

namespace hydra::db {

/// One build with its jobset, outputs, products and metrics. Optional fields are NULL in the
/// database (a queued build has no stopTime, a build without meta no description).
struct BuildDescription {
    BuildId id = 0;
    bool finished = false;
    int64_t timestamp = 0; ///< when it was queued
    std::string project;
    std::string jobset;
    int jobsetId = 0;
    std::string job;
    std::string drvPath;
    std::optional<int64_t> startTime;
    std::optional<int64_t> stopTime;
    std::optional<int> buildStatus;
    std::string nixName;
    std::string system;
    std::optional<std::string> homepage;
    std::optional<std::string> description;
    std::optional<std::string> license;
    std::optional<std::string> releaseName;
    std::vector<OutputPath> outputs;    ///< by name
    std::vector<BuildProduct> products; ///< by productnr (position + 1)
    std::vector<BuildMetric> metrics;   ///< by name
    std::optional<int64_t> notificationPendingSince;
    /// Both its project and its jobset allow dynamic RunCommand (enable_dynamic_run_command).
    bool dynamicRunCommandEnabled = false;
};

/// The build with id `id`, or nullopt if it does not exist (deleted meanwhile). One statement,
/// so a pqxx::nontransaction reads a consistent build without BEGIN and COMMIT.
std::optional<BuildDescription> loadBuildDescription(pqxx::transaction_base& t, BuildId id);

} // namespace hydra::db

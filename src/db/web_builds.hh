#pragma once
// Reading builds and their steps for the web server: a fixed number of queries however many
// builds are read (their outputs, products, metrics and evaluations are fetched together).

#include "db/web_records.hh"

#include <cstdint>
#include <optional>
#include <pqxx/pqxx>
#include <span>
#include <vector>

namespace hydra::db::web {

/// How much of each build to read.
enum class BuildDetail {
    Full,   ///< with outputs, products, metrics and evaluations (five queries): JSON, build pages
    Summary ///< the build's own row only (one query): tables of builds
};

/// The builds of `ids` that exist, in the order of `ids`.
std::vector<Build> loadBuilds(pqxx::transaction_base& t, std::span<const int64_t> ids,
                              BuildDetail detail = BuildDetail::Full);

/// One build, or nullopt when there is no such build.
std::optional<Build> findBuild(pqxx::transaction_base& t, int64_t id);

/// A build's steps by step number, with their outputs.
std::vector<BuildStep> buildSteps(pqxx::transaction_base& t, int64_t buildId);

/// The ids of an aggregate's constituents.
std::vector<int64_t> constituentIds(pqxx::transaction_base& t, int64_t aggregateId);

/// The ids of the builds that provided `buildId`'s build inputs (its build-time dependencies
/// among builds, as Hydra's build page lists them).
std::vector<int64_t> inputBuildIds(pqxx::transaction_base& t, int64_t buildId);

} // namespace hydra::db::web

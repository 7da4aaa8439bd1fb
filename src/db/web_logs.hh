#pragma once
// The lookups behind the web server's log and download routes: which step's log a build or a
// derivation shows, and one build product.

#include "db/web_records.hh"

#include <cstdint>
#include <optional>
#include <pqxx/pqxx>
#include <string>

namespace hydra::db::web {

/// The step whose log a log route shows.
struct LogStep {
    int stepNr = 0;
    std::string drvPath;
    bool running = false; ///< busy: its log is still being written
};

/// The derivation whose log /build/ID/log shows, as Hydra chooses it: the build's own
/// derivation when a step built it, else its last failed step's, else the build's own (built
/// by another build). The step is absent in the last case; nullopt when there is no such build.
struct BuildLogTarget {
    std::string drvPath;
    std::optional<LogStep> step;
};
std::optional<BuildLogTarget> buildLogTarget(pqxx::transaction_base& t, int64_t buildId);

/// True when the build exists.
bool buildExists(pqxx::transaction_base& t, int64_t buildId);

/// The step a follower of a build's log follows: its running build step (the newest, when
/// several run), else its last one.
struct FollowedStep {
    bool buildFinished = false;
    std::optional<LogStep> step; ///< none yet: the build waits for its first step
};
/// nullopt when there is no such build.
std::optional<FollowedStep> followedStep(pqxx::transaction_base& t, int64_t buildId);

/// Step `stepNr` of `buildId`, or nullopt.
std::optional<LogStep> buildStepForLog(pqxx::transaction_base& t, int64_t buildId, int stepNr);

/// The newest build step (of any build) that built `drvPath`, or nullopt.
std::optional<LogStep> stepOfDerivation(pqxx::transaction_base& t, const std::string& drvPath);

/// Product `productNr` of `buildId`, or nullopt.
std::optional<BuildProduct> buildProduct(pqxx::transaction_base& t, int64_t buildId, int productNr);

/// The first product of `buildId` named `name` (Hydra's /download/NAME form), or nullopt.
std::optional<BuildProduct> buildProductNamed(pqxx::transaction_base& t, int64_t buildId,
                                              const std::string& name);

} // namespace hydra::db::web

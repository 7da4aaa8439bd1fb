#pragma once
// Reading the builds of a job, a jobset, a project or the whole farm for the web server:
// latest builds, pages of finished builds, and a job's figures over time.

#include "db/web_records.hh"

#include <cstdint>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

namespace hydra::db::web {

/// Which builds a list covers: every build when all are empty, else those of a project, a
/// jobset, or a job of a jobset.
struct BuildScope {
    std::optional<std::string> project;
    std::optional<int> jobsetId;
    std::optional<std::string> job; ///< only with jobsetId
};

/// The newest successful build of `scope` (on `system` when given); with
/// `inFinishedEval`, only one that belongs to an evaluation with no unfinished build.
std::optional<int64_t> latestSuccessful(pqxx::transaction_base& t, const BuildScope& scope,
                                        const std::optional<std::string>& system, bool inFinishedEval);

/// A build that a channel offers: a successful one with a "nix-build" product (an ordinary
/// package, not a tarball or a test report), with its outputs.
struct ChannelBuild {
    int64_t id = 0;
    std::string job, system, nixName;
    std::optional<std::string> releaseName, description, license, maintainers;
    std::vector<std::pair<std::string, std::string>> outputs; ///< name, path; by name
};

/// What `…/channel/latest` offers: the newest such build of each job and system in `scope`
/// (of two jobsets' jobs with one name, the newer), ordered by job then system.
std::vector<ChannelBuild> latestChannelBuilds(pqxx::transaction_base& t, const BuildScope& scope);

/// What `/eval/ID/channel` offers: the evaluation's builds that are such builds.
std::vector<ChannelBuild> evalChannelBuilds(pqxx::transaction_base& t, int64_t evalId);

/// A page of finished builds, newest first.
struct FinishedPage {
    std::vector<int64_t> ids;
    int64_t total = 0; ///< exact for the farm, else capped at `finishedCountCap`
};
/// Counting a project's builds exactly would read all of them on every request: the count
/// stops here (500 pages of 20), and later pages are empty.
constexpr int64_t finishedCountCap = 10000;
FinishedPage finishedBuilds(pqxx::transaction_base& t, const BuildScope& scope, int64_t offset,
                            int64_t limit);

/// The newest finished builds of a job (`limit` of them) and its queued ones (at most
/// `queueLimit`, by priority then id).
struct JobBuilds {
    std::vector<int64_t> finished, queued;
};
JobBuilds jobBuilds(pqxx::transaction_base& t, int jobsetId, const std::string& job, int64_t limit,
                    int64_t queueLimit);

/// The status of the newest finished build of a job, if it has one.
std::optional<int> lastFinishedStatus(pqxx::transaction_base& t, int jobsetId, const std::string& job);

/// One value of a job's build over time.
struct SeriesPoint {
    int64_t build = 0, timestamp = 0;
    double value = 0;
    std::optional<std::string> unit;
};

/// What a job's series shows.
enum class Series { BuildTime, ClosureSize, OutputSize };

/// The newest `limit` values of a job's successful builds, oldest first.
std::vector<SeriesPoint> jobSeries(pqxx::transaction_base& t, int jobsetId, const std::string& job,
                                   Series what, int64_t limit);

/// The newest `limit` values of the metric `name` of a job, oldest first.
std::vector<SeriesPoint> jobMetric(pqxx::transaction_base& t, const std::string& project,
                                   const std::string& jobset, const std::string& job, const std::string& name,
                                   int64_t limit);

} // namespace hydra::db::web

// Failed, cached-failure and aborted builds, and FailedPaths (successes: build_results.cc).

#include "db/build_results.hh"

#include <algorithm>
#include <pqxx/pqxx>

#include "db/queue_notify.hh"
#include "db/sql_values.hh"

namespace hydra::db {

namespace {

bool finishFailed(pqxx::transaction_base& t, BuildId id, BuildStatus status, int64_t startTime,
                  int64_t stopTime, bool cached)
{
    auto r = t.exec_params(
        "UPDATE Builds SET finished = 1, buildStatus = $2, startTime = $3::integer, stopTime = $4::integer, "
        "  isCachedBuild = $5, notificationPendingSince = $4::integer "
        "WHERE id = $1 AND finished = 0",
        id, static_cast<int>(status), startTime, stopTime, cached ? 1 : 0);
    return r.affected_rows() == 1;
}

// The build the step ran for has its own row already, except when the step never ran (cached
// failure, unsupported system); a cached failure of a build's own derivation needs no row
// (isCachedBuild says it all).
bool needsPropagatedStep(const StepFailure& f, const DependentBuild& b)
{
    bool cached = f.stepStatus == BuildStatus::CachedFailure;
    if (cached && b.drvPath == f.drvPath) return false;
    if (!cached && f.stepStatus != BuildStatus::Unsupported && b.id == f.buildId) return false;
    return true;
}

void recordPropagatedStep(pqxx::transaction_base& t, const StepFailure& f, const DependentBuild& b)
{
    NewStep s;
    s.build = b.id;
    s.drvPath = f.drvPath;
    s.system = f.system;
    s.machine = f.machine;
    s.status = f.stepStatus;
    s.errorMsg = f.errorMsg;
    if (b.id != f.buildId) s.propagatedFrom = f.buildId;
    s.outputs = f.outputs;
    createBuildStep(t, s);
}

} // namespace

BuildStatus failedBuildStatus(const StepFailure& f, const DependentBuild& b)
{
    auto status = f.stepStatus == BuildStatus::CachedFailure ? BuildStatus::Failed : f.stepStatus;
    if (status == BuildStatus::Failed && b.drvPath != f.drvPath) return BuildStatus::DepFailed;
    return status;
}

std::vector<BuildId> failBuilds(pqxx::transaction_base& t, const StepFailure& f,
                                std::span<const DependentBuild> builds)
{
    // Always the same order, so two runners failing overlapping sets cannot deadlock.
    std::vector<DependentBuild> sorted(builds.begin(), builds.end());
    std::sort(sorted.begin(), sorted.end(), [](auto& a, auto& b) { return a.id < b.id; });
    std::vector<BuildId> finished;
    std::vector<BuildId> others;
    bool cached = f.stepStatus == BuildStatus::CachedFailure;
    for (auto& b : sorted) {
        if (!finishFailed(t, b.id, failedBuildStatus(f, b), f.startTime, f.stopTime, cached)) continue;
        if (needsPropagatedStep(f, b)) recordPropagatedStep(t, f, b);
        finished.push_back(b.id);
        if (b.id != f.buildId) others.push_back(b.id);
    }
    if (!cached) addFailedPaths(t, f.failedPaths);
    notifyBuildFinished(t, f.buildId, others);
    return finished;
}

std::optional<BuildId> findFailedStepBuild(pqxx::transaction_base& t, const std::string& drvPath,
                                           std::span<const std::string> outputPaths)
{
    auto r = t.exec_params("SELECT MAX(build) FROM BuildSteps WHERE drvPath = $1 AND startTime != 0 "
                           "AND stopTime != 0 AND status = 1",
                           drvPath);
    if (auto id = sql::get<BuildId>(r[0][0])) return id;
    if (outputPaths.empty()) return std::nullopt;
    r = t.exec_params(
        "SELECT MAX(s.build) FROM BuildSteps s "
        "JOIN BuildStepOutputs o ON o.build = s.build AND o.stepnr = s.stepnr "
        "WHERE o.path = ANY($1::text[]) AND s.startTime != 0 AND s.stopTime != 0 AND s.status = 1",
        sql::textArray(outputPaths));
    return sql::get<BuildId>(r[0][0]);
}

bool finishCachedFailure(pqxx::transaction_base& t, const CachedFailure& c)
{
    auto status = c.stepDrvPath == c.buildDrvPath ? BuildStatus::Failed : BuildStatus::DepFailed;
    auto r = t.exec_params(
        "UPDATE Builds SET finished = 1, buildStatus = $2, startTime = $3::integer, stopTime = $3::integer, "
        "  isCachedBuild = 1, notificationPendingSince = $3::integer "
        "WHERE id = $1 AND finished = 0",
        c.build, static_cast<int>(status), c.now);
    if (r.affected_rows() != 1) return false;
    std::vector<std::string> paths;
    for (auto& o : c.outputs)
        if (!o.path.empty()) paths.push_back(o.path);
    NewStep s;
    s.build = c.build;
    s.drvPath = c.stepDrvPath;
    s.system = c.system;
    s.status = BuildStatus::CachedFailure;
    s.propagatedFrom = findFailedStepBuild(t, c.stepDrvPath, paths);
    s.outputs = c.outputs;
    createBuildStep(t, s);
    notifyBuildFinished(t, c.build, {});
    return true;
}

bool abortBuild(pqxx::transaction_base& t, BuildId id, const std::string& drvPath, int64_t now,
                const std::string& reason)
{
    auto r = t.exec_params(
        "UPDATE Builds SET finished = 1, buildStatus = $2, startTime = $3::integer, stopTime = $3::integer, "
        "  notificationPendingSince = $3::integer "
        "WHERE id = $1 AND finished = 0",
        id, static_cast<int>(BuildStatus::Aborted), now);
    if (r.affected_rows() != 1) return false;
    if (!reason.empty()) {
        NewStep s;
        s.build = id;
        s.drvPath = drvPath;
        s.status = BuildStatus::Aborted;
        s.errorMsg = reason;
        s.startTime = now;
        s.stopTime = now;
        createBuildStep(t, s);
    }
    notifyBuildFinished(t, id, {});
    return true;
}

void addFailedPaths(pqxx::transaction_base& t, std::span<const std::string> paths)
{
    // FailedPaths has an insert rule that skips known paths; it forbids ON CONFLICT.
    for (auto& p : paths) t.exec_params("INSERT INTO FailedPaths (path) VALUES ($1)", p);
}

std::optional<std::string> findFailedPath(pqxx::transaction_base& t, std::span<const std::string> paths)
{
    if (paths.empty()) return std::nullopt;
    auto r =
        t.exec_params("SELECT path FROM FailedPaths WHERE path = ANY($1::text[])", sql::textArray(paths));
    for (auto& p : paths)
        for (auto row : r)
            if (row[0].as<std::string>() == p) return p;
    return std::nullopt;
}

std::set<std::string> failedPaths(pqxx::transaction_base& t, std::span<const std::string> paths)
{
    std::set<std::string> out;
    if (paths.empty()) return out;
    for (auto row :
         t.exec_params("SELECT path FROM FailedPaths WHERE path = ANY($1::text[])", sql::textArray(paths)))
        out.insert(row[0].as<std::string>());
    return out;
}

} // namespace hydra::db

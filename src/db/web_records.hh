#pragma once
// Plain records of Hydra's objects as the web server shows them (no SQL, no formatting).

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace hydra::db::web {

/// A project with its jobsets' names.
struct Project {
    std::string name, displayName, description, homepage, owner;
    bool enabled = true, hidden = false, enableDynamicRunCommand = false;
    std::optional<std::string> declFile, declType, declValue;
    std::vector<std::string> jobsets; ///< hidden ones too, by name
};

/// One input of a jobset (its first alternative's value).
struct JobsetInput {
    std::string name, type, value;
    bool emailResponsible = false;
};

/// A jobset with its inputs and the counts of its current builds.
struct Jobset {
    int id = 0;
    std::string project, name, description, nixExprInput, nixExprPath, errorMsg, emailOverride, fetchErrorMsg,
        flake;
    int type = 0, enabled = 1, keepNr = 3, checkInterval = 300, schedulingShares = 100;
    bool enableEmail = true, hidden = false, enableDynamicRunCommand = false;
    std::optional<int64_t> errorTime, lastCheckedTime, triggerTime, startTime;
    std::vector<JobsetInput> inputs;
    int64_t nrScheduled = 0, nrSucceeded = 0, nrFailed = 0, nrTotal = 0;
};

/// A build product.
struct BuildProduct {
    int productNr = 0;
    std::string type, subtype, name, path, defaultPath;
    std::optional<int64_t> fileSize;
    std::optional<std::string> sha256hash;
};

/// A build metric.
struct BuildMetric {
    std::string name, unit;
    double value = 0;
};

/// A build with its outputs, products, metrics and evaluations.
struct Build {
    int64_t id = 0;
    bool finished = false;
    int64_t timestamp = 0;
    std::optional<int64_t> startTime, stopTime;
    std::string project, jobset, job, nixName, system, drvPath, description, license, homepage, maintainers;
    int jobsetId = 0;
    int priority = 0, globalPriority = 0;
    std::optional<int> buildStatus;
    std::optional<std::string> releaseName;
    bool isCurrent = false, isChannel = false, isCachedBuild = false, keep = false;
    std::optional<int64_t> size, closureSize;
    std::vector<int64_t> evals;
    std::map<std::string, std::optional<std::string>> outputs; ///< name -> path
    std::vector<BuildProduct> products;
    std::vector<BuildMetric> metrics;
};

/// One step of a build.
struct BuildStep {
    int64_t build = 0;
    int stepNr = 0, type = 0, busy = 0;
    std::string drvPath, machine, system, errorMsg;
    std::optional<int> status;
    std::optional<int64_t> startTime, stopTime, propagatedFrom;
    std::map<std::string, std::optional<std::string>> outputs;
};

/// One input of an evaluation.
struct EvalInput {
    std::string name, type, uri, revision, value, path;
    std::optional<int64_t> dependency;
};

/// An evaluation of a jobset.
struct Eval {
    int64_t id = 0;
    int jobsetId = 0;
    std::string project, jobset;
    int64_t timestamp = 0, checkoutTime = 0, evalTime = 0;
    bool hasNewBuilds = false;
    std::string flake, errorMsg;
    std::optional<int64_t> errorTime;
    std::optional<int> nrBuilds, nrSucceeded;
    std::vector<int64_t> builds;
    std::vector<EvalInput> inputs;
};

/// A user, as the JSON of /current-user and /user/NAME shows it.
struct User {
    std::string userName, fullName, emailAddress;
    std::vector<std::string> roles;
};

} // namespace hydra::db::web

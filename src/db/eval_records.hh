#pragma once
// The evaluator's records: jobsets as it schedules and evaluates them, and one finished
// evaluation as it is written to JobsetEvals, Builds and their companion tables.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace hydra::db {

/// Jobsets.enabled: 0 disabled, 1 enabled, 2 one-shot (disabled after one evaluation),
/// 3 one-at-a-time (waits until the last evaluation has no unfinished builds).
enum class JobsetMode : int { Disabled = 0, Enabled = 1, OneShot = 2, OneAtATime = 3 };

/// What the scheduler needs to know of one jobset of an enabled project.
struct JobsetState {
    int id = 0;
    std::string project;
    std::string name;
    JobsetMode mode = JobsetMode::Enabled;
    int checkInterval = 300; ///< seconds; 0: evaluate only when triggered
    std::optional<int64_t> lastCheckedTime;
    std::optional<int64_t> triggerTime;
    std::optional<int64_t> startTime;   ///< set while an evaluation runs
    bool lastEvalHasUnfinished = false; ///< a build of its latest evaluation is still queued
};

/// One alternative value of a jobset input (JobsetInputAlts).
struct InputAlt {
    int altNr = 0;
    std::string value;
    std::optional<std::string> revision;
};

/// One jobset input (JobsetInputs) with its alternatives, altNr ascending.
struct JobsetInput {
    std::string name;
    std::string type; ///< string, boolean, nix, path, git, build, eval, sysbuild
    bool emailResponsible = false;
    std::vector<InputAlt> alts;
};

/// Everything one evaluation of a jobset starts from.
struct JobsetDefinition {
    int id = 0;
    std::string project;
    std::string name;
    int type = 0; ///< 0: legacy (nixExprInput/nixExprPath), 1: flake
    std::string nixExprInput;
    std::string nixExprPath;
    std::string flake;
    bool forceEval = false;
    JobsetMode mode = JobsetMode::Enabled;
    std::vector<JobsetInput> inputs;
};

/// One row of JobsetEvalInputs: an input as this evaluation saw it.
struct EvalInputRecord {
    std::string name;
    int altNr = 0;
    std::string type;
    std::optional<std::string> uri;
    std::optional<std::string> revision;
    std::optional<std::string> value;
    std::optional<int64_t> dependency; ///< the build a 'build' input came from
    std::optional<std::string> path;   ///< store path
    std::optional<std::string> sha256hash;
};

/// One job the evaluation produced, as its Builds row needs it.
struct EvalJob {
    std::string job; ///< attribute path, e.g. "tests.foo"
    std::string nixName;
    std::string drvPath;
    std::string system;
    std::optional<std::string> description;
    std::optional<std::string> license; ///< short names, ", "-separated
    std::optional<std::string> homepage;
    std::optional<std::string> maintainers;     ///< e-mail addresses, ", "-separated
    int schedulingPriority = 100;               ///< meta.schedulingPriority
    int timeout = 36000;                        ///< meta.timeout, seconds
    int maxSilent = 7200;                       ///< meta.maxSilent, seconds
    bool isChannel = false;                     ///< meta.isHydraChannel
    std::map<std::string, std::string> outputs; ///< output name -> store path
    /// Aggregate jobs (_hydraAggregate): constituents given as derivations (.drv paths) and
    /// as job names; both become AggregateConstituents rows.
    bool isAggregate = false;
    std::vector<std::string> constituentDrvs;
    std::vector<std::string> constituentJobs;
    /// _hydraGlobConstituents: the named constituents are fnmatch patterns over job names.
    bool globConstituents = false;
};

/// A job whose evaluation failed, with Nix's message.
struct EvalJobError {
    std::string job;
    std::string message;
};

/// A finished evaluation, to be written in one transaction.
struct NewEvaluation {
    int jobsetId = 0;
    std::string traceId;              ///< the first field of eval_* payloads
    std::string hash;                 ///< of the inputs: an equal hash later means "cached"
    int checkoutTime = 0;             ///< seconds spent fetching inputs
    int evalTime = 0;                 ///< seconds spent evaluating
    std::optional<std::string> flake; ///< the locked flake reference
    std::optional<std::string> nixExprInput;
    std::optional<std::string> nixExprPath;
    std::vector<EvalInputRecord> inputs;
    std::vector<EvalJob> jobs;
    std::vector<EvalJobError> errors;
};

/// What writing an evaluation did.
struct EvalWriteResult {
    int64_t evalId = 0;
    std::vector<int64_t> newBuilds;    ///< ascending
    std::vector<int64_t> reusedBuilds; ///< from the previous evaluation, unchanged outputs
    std::optional<int64_t> lowestNewBuild;
};

/// The latest evaluation of a jobset.
struct PreviousEval {
    int64_t id = 0;
    std::string hash;
};

/// A finished, successful build that a 'build' input refers to.
struct BuildInputSource {
    int64_t buildId = 0;
    std::string drvPath;
    std::string outPath; ///< its "out" output (or its first output)
};

} // namespace hydra::db

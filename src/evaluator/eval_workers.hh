#pragma once
// evaluateJobs: turns a jobset's expression into jobs with parallel nix-instantiate workers,
// each evaluating a batch of attribute paths; one broken job never fails the others.

#include "db/eval_records.hh"
#include "evaluator/job_source.hh"
#include "util/error.hh"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <stop_token>
#include <vector>

namespace hydra::evaluator {

/// How the workers run: how many, their memory budget and Nix's evaluation settings.
struct EvalWorkerOptions {
    unsigned workers = 1;
    uint64_t maxMemoryMiB = 4096;            ///< a worker above this is killed (evaluator_max_memory_size)
    std::optional<uint64_t> initialHeapSize; ///< GC_INITIAL_HEAP_SIZE of the workers, in bytes
    bool allowImportFromDerivation = true;
    bool pureEval = false;
    /// Hydra's restricted evaluation: a jobset reads only its inputs (the search path) and
    /// what it builds, and builtins.getEnv gives "", so it cannot see the evaluator's secrets.
    bool restrictEval = true;
    /// An evaluation still running after this fails (evaluator_timeout): a jobset that never
    /// finishes must not hold an evaluation slot for ever.
    std::chrono::seconds timeout{6 * 3600};
    /// Every job's .drv gets a root here as soon as its worker reports it (gc_roots_dir): the
    /// worker's own temporary roots end with it, and a garbage collection before the
    /// evaluation is written would leave its builds without their derivations.
    std::optional<std::filesystem::path> gcRootsDir;
};

/// Counts reported while an evaluation runs.
struct EvalProgress {
    size_t jobs = 0;
    size_t errors = 0;
    size_t pending = 0; ///< attribute paths not evaluated yet
};

/// The result of evaluating a jobset: jobs and per-job errors, both sorted by job name.
struct JobsEvaluation {
    std::vector<db::EvalJob> jobs;
    std::vector<db::EvalJobError> errors;
};

/// The expression as a whole could not be evaluated (syntax error, missing file or argument,
/// not an attribute set); the message is Nix's.
class ExpressionError : public Error {
public:
    using Error::Error;
};

/// Evaluates every job of `src`. Throws ExpressionError when the top level fails or the
/// evaluation runs past opts.timeout, Error
/// ("evaluation interrupted") when `stop` is requested, Error when nix-instantiate cannot run.
/// onProgress is called from the calling thread now and then.
JobsEvaluation evaluateJobs(const JobSource& src, const EvalWorkerOptions& opts, const std::stop_token& stop,
                            const std::function<void(const EvalProgress&)>& onProgress = {});

} // namespace hydra::evaluator

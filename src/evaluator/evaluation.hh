#pragma once
// One evaluation of one jobset, from fetching its inputs to the rows and notifications the
// queue runner acts on; used by the daemon and by `hydra eval`.

#include "db/connection_pool.hh"
#include "evaluator/declarative_jobsets.hh"
#include "evaluator/eval_workers.hh"
#include "evaluator/input_fetcher.hh"
#include "util/clock.hh"
#include "util/hydra_config.hh"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <stop_token>
#include <string>

namespace hydra::evaluator {

/// How evaluations fetch inputs and run their workers (built once from hydra.conf).
struct EvaluationSettings {
    FetchOptions fetch;
    EvalWorkerOptions workers;
    std::optional<bool> pureEval; ///< unset: pure evaluation for flakes only (their inputs are locked)
};

/// The settings hydra.conf gives (evaluator_workers, evaluator_max_memory_size, ...).
EvaluationSettings evaluationSettings(const HydraConfig& config, const std::filesystem::path& dataDir);

/// How one evaluation ended.
enum class EvalOutcome {
    Added,       ///< a JobsetEvals row was written
    Cached,      ///< inputs unchanged since the last evaluation: nothing new
    Failed,      ///< an input or the expression failed; recorded on the jobset
    Busy,        ///< another evaluation of the jobset is running (startTime is set)
    Interrupted, ///< stopped before finishing; the jobset is free again
    Declared,    ///< a declarative project's `.jobsets`: its jobsets were made to match the spec
};

/// What one evaluation did, for logs and `hydra eval`.
struct EvaluationReport {
    EvalOutcome outcome = EvalOutcome::Failed;
    std::optional<int64_t> evalId; ///< the new one, or the previous one when cached
    size_t jobs = 0;
    size_t jobErrors = 0;
    std::string jobErrorText; ///< each failed job's message, as the jobset's errorMsg shows them
    size_t newBuilds = 0;
    size_t reusedBuilds = 0;
    std::string error; ///< why it failed
};

/// Evaluates one jobset: claims it (startTime), fetches the inputs, evaluates or finds it
/// cached, writes the evaluation and its builds, and frees the jobset. Failures of inputs or
/// of the expression are recorded on the jobset, not thrown.
class JobsetEvaluator {
public:
    JobsetEvaluator(db::ConnectionPool& pool, const EvaluationSettings& settings, const Clock& clock);

    EvaluationReport run(int jobsetId, const std::stop_token& stop,
                         const std::function<void(const EvalProgress&)>& onProgress = {});

private:
    struct Prepared;

    EvaluationReport evaluate(int jobsetId, const std::string& traceId, const std::stop_token& stop,
                              const std::function<void(const EvalProgress&)>& onProgress);
    Prepared prepare(const db::JobsetDefinition& js, const std::stop_token& stop);
    EvaluationReport write(const db::JobsetDefinition& js, const std::string& traceId, Prepared& p,
                           JobsEvaluation result, int evalSeconds);
    /// A `.jobsets` check: its report, or nullopt when `.jobsets` must now be evaluated.
    std::optional<EvaluationReport> declare(const db::JobsetDefinition& js, const std::string& traceId,
                                            const std::stop_token& stop);
    EvaluationReport fail(int jobsetId, const std::string& name, const std::string& traceId,
                          const std::string& msg, bool fetchError);
    /// `onProgress`, plus eval_progress for live pages when the number of jobs found changed (at
    /// most once a second: a page cannot show faster, and the database has other work).
    std::function<void(const EvalProgress&)>
    announcingProgress(int jobsetId, const std::string& traceId,
                       const std::function<void(const EvalProgress&)>& onProgress);

    db::ConnectionPool& pool_;
    const EvaluationSettings& settings_;
    const Clock& clock_;
    InputFetcher fetcher_;
    DeclarativeJobsets declarative_;
};

/// The name Hydra's logs and `hydra eval` use for a jobset: "project:jobset".
std::string jobsetName(const db::JobsetDefinition& js);

} // namespace hydra::evaluator

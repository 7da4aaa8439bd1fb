#include "cli/commands.hh"
#include "cli/site.hh"
#include "db/jobsets.hh"
#include "evaluator/evaluation.hh"
#include "util/error.hh"
#include "util/stop_signals.hh"

#include <chrono>
#include <cstdio>
#include <mutex>
#include <stop_token>

namespace hydra::cli {

namespace {

/// Prints the evaluation's progress at most once a second, so a 20,000-job jobset does not
/// flood the terminal.
class ProgressPrinter {
public:
    void operator()(const evaluator::EvalProgress& p)
    {
        std::lock_guard lock(mutex_); // workers report from their own threads
        auto now = std::chrono::steady_clock::now();
        if (now - last_ < std::chrono::seconds(1)) return;
        last_ = now;
        std::printf("  %zu jobs evaluated, %zu errors, %zu to go\n", p.jobs, p.errors, p.pending);
        std::fflush(stdout);
    }

private:
    std::mutex mutex_;
    std::chrono::steady_clock::time_point last_{};
};

int report(const std::string& name, const evaluator::EvaluationReport& r)
{
    using evaluator::EvalOutcome;
    switch (r.outcome) {
    case EvalOutcome::Added:
        std::printf("evaluation %lld of %s: %zu jobs, %zu job errors, %zu new builds, %zu unchanged\n",
                    static_cast<long long>(*r.evalId), name.c_str(), r.jobs, r.jobErrors, r.newBuilds,
                    r.reusedBuilds);
        // As in Hydra, jobs that fail to evaluate are the jobset's errors, not the command's.
        if (!r.jobErrorText.empty()) std::fprintf(stderr, "%s", r.jobErrorText.c_str());
        return 0;
    case EvalOutcome::Cached:
        std::printf("%s: inputs unchanged since evaluation %lld; nothing new\n", name.c_str(),
                    static_cast<long long>(r.evalId.value_or(0)));
        return 0;
    case EvalOutcome::Declared:
        std::printf("%s: the project's jobsets now match its specification (%zu defined, %zu errors)\n",
                    name.c_str(), r.jobs, r.jobErrors);
        if (!r.jobErrorText.empty()) std::fprintf(stderr, "%s\n", r.jobErrorText.c_str());
        return r.jobErrors == 0 ? 0 : 1;
    default: std::fprintf(stderr, "hydra eval: %s: %s\n", name.c_str(), r.error.c_str()); return 1;
    }
}

} // namespace

int cmdEval(Args& args)
{
    if (args.done()) throw UsageError("missing PROJECT");
    auto project = args.next();
    if (args.done()) throw UsageError("missing JOBSET");
    auto jobset = args.next();
    args.expectEnd();
    Site site = Site::fromEnvironment();
    auto settings = evaluator::evaluationSettings(site.config(), site.dataDir());
    db::ConnectionPool pool(
        db::PoolOptions{.conninfo = site.conninfo(/*startPrivate=*/true), .maxConnections = 2});
    auto def = pool.withTransaction([&](pqxx::work& t) { return db::loadJobset(t, project, jobset); });
    auto name = project + ":" + jobset;
    if (!def) throw Error("jobset {} does not exist", name);
    std::printf("evaluating %s (%u workers)\n", name.c_str(), settings.workers.workers);
    std::fflush(stdout);
    SystemClock clock;
    evaluator::JobsetEvaluator evaluator(pool, settings, clock);
    ProgressPrinter progress;
    evaluator::EvaluationReport r;
    // Ctrl-C stops the workers and frees the jobset instead of leaving it marked as running.
    runUntilStopSignal([&](const std::stop_token& stop) {
        r = evaluator.run(def->id, stop, [&](const evaluator::EvalProgress& p) { progress(p); });
    });
    return report(name, r);
}

} // namespace hydra::cli

#include "evaluator/evaluation.hh"

#include "db/eval_writer.hh"
#include "db/jobsets.hh"
#include "db/project_writes.hh"
#include "evaluator/inputs_hash.hh"
#include "nix/gc_roots.hh"
#include "util/error.hh"
#include "util/logging.hh"
#include "util/strings.hh"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fmt/format.h>
#include <random>
#include <set>

namespace hydra::evaluator {

namespace fs = std::filesystem;

/// What an evaluation knows once its inputs are fetched.
struct JobsetEvaluator::Prepared {
    std::vector<FetchedInput> inputs;
    JobSource source;
    std::string lockedFlake;
    std::string hash;
    int checkoutSeconds = 0;
};

namespace {

std::string newTraceId()
{
    std::random_device rd;
    return fmt::format("{:08x}{:08x}{:08x}{:08x}", rd(), rd(), rd(), rd());
}

int secondsSince(const Clock& clock, Clock::TimePoint start)
{
    return int(std::chrono::duration_cast<std::chrono::seconds>(clock.now() - start).count());
}

/// The jobset's errorMsg after an evaluation whose jobs failed: every job's message.
std::optional<std::string> jobErrorsText(const std::vector<db::EvalJobError>& errors)
{
    if (errors.empty()) return std::nullopt;
    std::string text;
    for (const auto& e : errors) text += fmt::format("in job ‘{}’:\n{}\n\n", e.job, e.message);
    return text;
}

/// A constituent given as a derivation that is no job of this evaluation gets no
/// AggregateConstituents row; as Hydra does, that is logged, not made an error of the
/// aggregate. (A named one that is no job is already the aggregate's evaluation error.)
void warnAboutForeignConstituents(const JobsEvaluation& result, const std::string& jobset)
{
    std::set<std::string> drvs;
    for (const auto& j : result.jobs) drvs.insert(j.drvPath);
    for (const auto& j : result.jobs) {
        if (!j.isAggregate) continue;
        for (const auto& c : j.constituentDrvs)
            if (!drvs.contains(c))
                log::warn("jobset {}: aggregate ‘{}’ has the constituent {}, which is not a job", jobset,
                          j.job, c);
    }
}

} // namespace

std::string jobsetName(const db::JobsetDefinition& js)
{
    return js.project + ":" + js.name;
}

EvaluationSettings evaluationSettings(const HydraConfig& config, const std::filesystem::path& dataDir)
{
    EvaluationSettings s;
    s.fetch.dataDir = dataDir;
    s.workers.workers = config.evaluator.workers;
    s.workers.maxMemoryMiB = config.evaluator.maxMemorySizeMiB;
    s.workers.initialHeapSize = config.evaluator.initialHeapSize;
    s.workers.allowImportFromDerivation = config.evaluator.allowImportFromDerivation;
    s.workers.restrictEval = config.evaluator.restrictEval;
    s.workers.timeout = config.evaluator.timeout;
    s.pureEval = config.evaluator.pureEval;
    s.workers.gcRootsDir = nix::gcRootsDir(config.queueRunner);
    return s;
}

JobsetEvaluator::JobsetEvaluator(db::ConnectionPool& pool, const EvaluationSettings& settings,
                                 const Clock& clock)
    : pool_(pool), settings_(settings), clock_(clock), fetcher_(settings.fetch, pool),
      declarative_(pool, fetcher_, clock)
{}

EvaluationReport JobsetEvaluator::run(int jobsetId, const std::stop_token& stop,
                                      const std::function<void(const EvalProgress&)>& onProgress)
{
    auto now = clock_.unixTime();
    if (!pool_.withTransaction([&](pqxx::work& t) { return db::claimJobset(t, jobsetId, now); }))
        return {.outcome = EvalOutcome::Busy, .error = "an evaluation of this jobset is already running"};
    auto traceId = newTraceId();
    EvaluationReport report;
    try {
        report = evaluate(jobsetId, traceId, stop, onProgress);
    } catch (const std::exception& e) {
        if (stop.stop_requested()) {
            pool_.withTransaction([&](pqxx::work& t) { db::releaseJobset(t, jobsetId); });
            return {.outcome = EvalOutcome::Interrupted, .error = "interrupted"};
        }
        // Anything else (nix-instantiate missing, a store error, ...) is recorded on the jobset
        // like a failed expression, so that it waits for its next check instead of failing
        // again at once, in a loop. If even that fails (database gone), the jobset is freed.
        try {
            report = fail(jobsetId, fmt::format("jobset {}", jobsetId), traceId, e.what(), false);
        } catch (...) {
            pool_.withTransaction([&](pqxx::work& t) { db::releaseJobset(t, jobsetId); });
            throw;
        }
    }
    pool_.withTransaction([&](pqxx::work& t) { db::finishJobsetCheck(t, jobsetId, clock_.unixTime()); });
    return report;
}

EvaluationReport JobsetEvaluator::evaluate(int jobsetId, const std::string& traceId,
                                           const std::stop_token& stop,
                                           const std::function<void(const EvalProgress&)>& onProgress)
{
    auto js = pool_.withTransaction([&](pqxx::work& t) {
        auto def = db::loadJobset(t, jobsetId);
        if (!def) throw Error("jobset {} does not exist", jobsetId);
        db::notifyEvalStarted(t, traceId, jobsetId);
        return *def;
    });
    if (js.name == db::declarativeJobsetName) {
        if (auto declared = declare(js, traceId, stop)) return *declared;
        // A generated specification: .jobsets, reconfigured from it, is evaluated as any jobset.
        js = pool_.withTransaction([&](pqxx::work& t) { return db::loadJobset(t, jobsetId); }).value_or(js);
    }
    Prepared p;
    try {
        p = prepare(js, stop);
    } catch (const InputError& e) {
        if (stop.stop_requested()) throw;
        return fail(js.id, jobsetName(js), traceId, e.what(), /*fetchError=*/true);
    }
    auto previous = pool_.withTransaction([&](pqxx::work& t) { return db::latestEval(t, jobsetId); });
    if (previous && previous->hash == p.hash && !js.forceEval) {
        pool_.withTransaction([&](pqxx::work& t) {
            db::notifyEvalCached(t, traceId, jobsetId, previous->id);
            db::setFetchError(t, jobsetId, std::nullopt);
        });
        log::info("jobset {}: inputs unchanged since evaluation {}; nothing to do", jobsetName(js),
                  previous->id);
        return {.outcome = EvalOutcome::Cached, .evalId = previous->id};
    }
    auto start = clock_.now();
    JobsEvaluation result;
    try {
        auto opts = settings_.workers;
        opts.pureEval = settings_.pureEval.value_or(p.source.isFlake());
        result = evaluateJobs(p.source, opts, stop, announcingProgress(jobsetId, traceId, onProgress));
    } catch (const ExpressionError& e) {
        if (stop.stop_requested()) throw;
        return fail(js.id, jobsetName(js), traceId, e.what(), /*fetchError=*/false);
    }
    if (stop.stop_requested()) throw Error("evaluation of {} interrupted", jobsetName(js));
    return write(js, traceId, p, std::move(result), secondsSince(clock_, start));
}

std::function<void(const EvalProgress&)>
JobsetEvaluator::announcingProgress(int jobsetId, const std::string& traceId,
                                    const std::function<void(const EvalProgress&)>& onProgress)
{
    return [this, jobsetId, traceId, onProgress, last = Clock::TimePoint{},
            lastJobs = size_t{0}](const EvalProgress& p) mutable {
        if (onProgress) onProgress(p);
        // The last count (nothing pending) always goes out: a page must not stay at an early one.
        if (p.jobs == lastJobs || (p.pending > 0 && clock_.now() - last < std::chrono::seconds(1))) return;
        last = clock_.now();
        lastJobs = p.jobs;
        try {
            pool_.withTransaction(
                [&](pqxx::work& t) { db::notifyEvalProgress(t, traceId, jobsetId, p.jobs); });
        } catch (const std::exception& e) {
            // Only a live page misses a count; the evaluation goes on.
            log::debug("jobset {}: cannot announce progress: {}", jobsetId, e.what());
        }
    };
}

JobsetEvaluator::Prepared JobsetEvaluator::prepare(const db::JobsetDefinition& js,
                                                   const std::stop_token& stop)
{
    auto start = clock_.now();
    Prepared p;
    for (const auto& input : js.inputs)
        if (auto fetched = fetcher_.fetch(js, input, stop)) p.inputs.push_back(std::move(*fetched));
    if (js.type == 1) {
        if (js.flake.empty())
            throw InputError("jobset {} is a flake jobset without a flake URL", jobsetName(js));
        p.lockedFlake = fetcher_.lockFlake(js.flake, stop);
        p.source.flakeRef = p.lockedFlake;
    } else {
        const FetchedInput* expr = nullptr;
        for (const auto& in : p.inputs)
            if (in.record.name == js.nixExprInput) expr = &in;
        if (!expr)
            throw InputError("jobset {}: its nixExprInput ‘{}’ is not one of its inputs", jobsetName(js),
                             js.nixExprInput);
        if (!expr->record.path)
            throw InputError("jobset {}: input ‘{}’ ({}) holds no files to take ‘{}’ from", jobsetName(js),
                             js.nixExprInput, expr->record.type, js.nixExprPath);
        p.source.nixFile = fs::path(*expr->record.path) / js.nixExprPath;
        if (!fs::exists(p.source.nixFile))
            throw InputError("jobset {}: input ‘{}’ has no file ‘{}’", jobsetName(js), js.nixExprInput,
                             js.nixExprPath);
        for (const auto& in : p.inputs) {
            p.source.args.push_back(in.arg);
            if (in.record.path) p.source.searchPath.emplace_back(in.record.name, *in.record.path);
        }
    }
    p.hash = inputsHash(p.inputs, js, p.lockedFlake);
    p.checkoutSeconds = secondsSince(clock_, start);
    return p;
}

EvaluationReport JobsetEvaluator::write(const db::JobsetDefinition& js, const std::string& traceId,
                                        Prepared& p, JobsEvaluation result, int evalSeconds)
{
    warnAboutForeignConstituents(result, jobsetName(js));
    db::NewEvaluation ev{.jobsetId = js.id,
                         .traceId = traceId,
                         .hash = p.hash,
                         .checkoutTime = p.checkoutSeconds,
                         .evalTime = evalSeconds};
    if (js.type == 1) {
        ev.flake = p.lockedFlake;
    } else {
        ev.nixExprInput = js.nixExprInput;
        ev.nixExprPath = js.nixExprPath;
    }
    for (auto& in : p.inputs) ev.inputs.push_back(in.record);
    ev.jobs = std::move(result.jobs);
    ev.errors = std::move(result.errors);
    auto written = pool_.withTransaction([&](pqxx::work& t) {
        auto w = db::writeEvaluation(t, ev, clock_.unixTime());
        db::setJobsetError(t, js.id, clock_.unixTime(), jobErrorsText(ev.errors));
        db::setFetchError(t, js.id, std::nullopt);
        db::markJobsetEvaluated(t, js.id);
        return w;
    });
    EvaluationReport r{.outcome = EvalOutcome::Added,
                       .evalId = written.evalId,
                       .jobs = ev.jobs.size(),
                       .jobErrors = ev.errors.size(),
                       .jobErrorText = jobErrorsText(ev.errors).value_or(""),
                       .newBuilds = written.newBuilds.size(),
                       .reusedBuilds = written.reusedBuilds.size()};
    log::info("evaluation {} of {}: {} jobs, {} job errors, {} new builds, {} unchanged; inputs {} s, "
              "evaluation {} s",
              written.evalId, jobsetName(js), r.jobs, r.jobErrors, r.newBuilds, r.reusedBuilds,
              p.checkoutSeconds, evalSeconds);
    return r;
}

std::optional<EvaluationReport> JobsetEvaluator::declare(const db::JobsetDefinition& js,
                                                         const std::string& traceId,
                                                         const std::stop_token& stop)
{
    DeclarationResult d;
    try {
        d = declarative_.check(js, stop);
    } catch (const InputError& e) {
        if (stop.stop_requested()) throw;
        return fail(js.id, jobsetName(js), traceId, e.what(), /*fetchError=*/true);
    } catch (const Error& e) {
        return fail(js.id, jobsetName(js), traceId, e.what(), /*fetchError=*/false);
    }
    std::optional<std::string> errors;
    for (const auto& e : d.declared.errors) errors = errors ? *errors + "\n" + e : e;
    if (d.generated) {
        // The evaluation that follows records its own errors on .jobsets; these go to the log.
        for (const auto& e : d.declared.errors) log::warn("jobset {}: {}", jobsetName(js), e);
        return std::nullopt;
    }
    pool_.withTransaction([&](pqxx::work& t) {
        db::setJobsetError(t, js.id, clock_.unixTime(), errors);
        db::setFetchError(t, js.id, std::nullopt);
        db::markJobsetEvaluated(t, js.id);
    });
    return EvaluationReport{.outcome = EvalOutcome::Declared,
                            .jobs = d.declared.created.size() + d.declared.updated.size(),
                            .jobErrors = d.declared.errors.size(),
                            .jobErrorText = errors.value_or("")};
}

EvaluationReport JobsetEvaluator::fail(int jobsetId, const std::string& name, const std::string& traceId,
                                       const std::string& msg, bool fetchError)
{
    pool_.withTransaction([&](pqxx::work& t) {
        if (fetchError) {
            db::setFetchError(t, jobsetId, msg);
        } else {
            db::setFetchError(t, jobsetId, std::nullopt);
            db::setJobsetError(t, jobsetId, clock_.unixTime(), msg);
        }
        db::notifyEvalFailed(t, traceId, jobsetId);
    });
    log::warn("evaluation of {} failed: {}", name, oneLine(msg));
    return {.outcome = EvalOutcome::Failed, .error = msg};
}

} // namespace hydra::evaluator

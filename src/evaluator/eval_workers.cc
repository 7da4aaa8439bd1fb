#include "evaluator/eval_workers.hh"

#include "evaluator/job_json.hh"
#include "evaluator/worker_batch.hh"
#include "evaluator/worker_expr.hh"
#include "util/logging.hh"
#include "util/sync.hh"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <exception>
#include <thread>

namespace hydra::evaluator {

namespace {

using namespace std::chrono_literals;

constexpr size_t maxBatchSize = 2000;

/// The work still to do and what is done, shared by the workers.
struct Queue {
    std::deque<AttrPath> pending;              ///< paths not yet given to a worker
    std::deque<std::vector<AttrPath>> retries; ///< halves of failed batches, and single paths
    size_t running = 0;                        ///< batches being evaluated
    size_t inFlight = 0;                       ///< paths in those batches
    size_t maxBatch = maxBatchSize;            ///< lowered when a batch runs out of memory
    JobsEvaluation result;
    std::exception_ptr failure;

    bool hasWork() const { return !pending.empty() || !retries.empty(); }
    bool finished() const { return failure || (!hasWork() && running == 0); }

    EvalProgress progress() const
    {
        size_t waiting = pending.size() + inFlight;
        for (auto& r : retries) waiting += r.size();
        return {result.jobs.size(), result.errors.size(), waiting};
    }
};

std::string describe(const JobSource& src)
{
    return src.isFlake() ? "flake " + src.flakeRef : src.nixFile.string();
}

/// One evaluation: the top-level listing, then workers taking batches until nothing is left.
class Evaluation {
public:
    Evaluation(const JobSource& src, const EvalWorkerOptions& opts) : src_(src), opts_(opts) {}

    /// Lists the top level; its failure is the failure of the whole expression.
    void listTop()
    {
        auto o = runBatch(src_, opts_, {AttrPath{}}, false, abort_.get_token());
        if (o.kind == BatchOutcome::Kind::OutOfMemory) o.error = memoryError();
        if (o.kind != BatchOutcome::Kind::Ok)
            throw ExpressionError("evaluating {}: {}", describe(src_), o.error);
        auto q = queue_.lock();
        for (auto& name : o.results.at(0).at("names")) q->pending.push_back({name.get<std::string>()});
    }

    /// Runs the workers until every path is evaluated, reporting progress meanwhile.
    void run(const std::function<void(const EvalProgress&)>& onProgress)
    {
        std::vector<std::jthread> threads;
        for (unsigned i = 0; i < std::max(opts_.workers, 1u); ++i) threads.emplace_back([this] { work(); });
        for (bool finished = false; !finished;) {
            EvalProgress p;
            {
                auto q = queue_.lock();
                q.waitFor(changed_, 500ms, [](const Queue& s) { return s.finished(); });
                finished = q->finished() || abort_.stop_requested();
                p = q->progress();
            }
            if (onProgress) onProgress(p);
        }
        threads.clear();
        auto q = queue_.lock();
        if (q->failure) std::rethrow_exception(q->failure);
    }

    std::stop_source& abort() { return abort_; }

    JobsEvaluation take()
    {
        auto q = queue_.lock();
        auto r = std::move(q->result);
        std::sort(r.jobs.begin(), r.jobs.end(), [](auto& a, auto& b) { return a.job < b.job; });
        std::sort(r.errors.begin(), r.errors.end(), [](auto& a, auto& b) { return a.job < b.job; });
        return r;
    }

private:
    void work()
    {
        while (auto batch = next()) {
            try {
                // A single path runs without tryEval: its failure is Nix's own error message.
                auto o = runBatch(src_, opts_, *batch, batch->size() > 1, abort_.get_token());
                absorb(*batch, std::move(o));
            } catch (const EvalInterrupted&) {
                finishBatch(*batch);
                return;
            } catch (...) {
                finishBatch(*batch, std::current_exception());
                return;
            }
        }
    }

    /// The next batch: a retried one first, else a share of the pending paths small enough
    /// that every worker gets several.
    std::optional<std::vector<AttrPath>> next()
    {
        auto q = queue_.lock();
        while (!q.waitFor(changed_, 200ms, [](const Queue& s) { return s.hasWork() || s.finished(); }))
            if (abort_.stop_requested()) return std::nullopt;
        if (q->finished() || abort_.stop_requested()) return std::nullopt;
        std::vector<AttrPath> batch;
        if (!q->retries.empty()) {
            batch = std::move(q->retries.front());
            q->retries.pop_front();
        } else {
            size_t n =
                std::clamp<size_t>(q->pending.size() / (std::max(opts_.workers, 1u) * 4u), 1, q->maxBatch);
            batch.assign(std::make_move_iterator(q->pending.begin()),
                         std::make_move_iterator(q->pending.begin() + static_cast<std::ptrdiff_t>(n)));
            q->pending.erase(q->pending.begin(), q->pending.begin() + static_cast<std::ptrdiff_t>(n));
        }
        q->running++;
        q->inFlight += batch.size();
        return batch;
    }

    void finishBatch(const std::vector<AttrPath>& batch, std::exception_ptr failure = nullptr)
    {
        {
            auto q = queue_.lock();
            q->running--;
            q->inFlight -= batch.size();
            if (failure && !q->failure) q->failure = failure;
        }
        if (failure) abort_.request_stop();
        changed_.notify_all();
    }

    std::string memoryError() const
    {
        return fmt::format("evaluation used more than {} MiB (evaluator_max_memory_size)",
                           opts_.maxMemoryMiB);
    }

    void absorb(const std::vector<AttrPath>& batch, BatchOutcome&& o)
    {
        {
            auto q = queue_.lock();
            if (o.kind == BatchOutcome::Kind::Ok)
                absorbResults(*q, batch, o.results);
            else if (batch.size() == 1)
                q->result.errors.push_back(
                    {jobName(batch[0]), o.kind == BatchOutcome::Kind::OutOfMemory ? memoryError() : o.error});
            else
                split(*q, batch, o.kind == BatchOutcome::Kind::OutOfMemory);
        }
        finishBatch(batch);
    }

    /// A batch that died (an error tryEval cannot catch, or too much memory) is retried in
    /// halves until the path at fault is alone.
    static void split(Queue& q, const std::vector<AttrPath>& batch, bool outOfMemory)
    {
        auto half = batch.begin() + static_cast<std::ptrdiff_t>(batch.size() / 2);
        q.retries.emplace_back(batch.begin(), half);
        q.retries.emplace_back(half, batch.end());
        if (outOfMemory) q.maxBatch = std::max<size_t>(1, std::min(q.maxBatch, batch.size() / 2));
    }

    static void absorbResults(Queue& q, const std::vector<AttrPath>& batch, const nlohmann::json& results)
    {
        for (size_t i = 0; i < batch.size(); ++i) {
            auto& r = results[i];
            auto kind = r.value("t", "");
            if (kind == "job") {
                try {
                    q.result.jobs.push_back(parseJobJson(jobName(batch[i]), r));
                } catch (const Error& e) {
                    q.result.errors.push_back({jobName(batch[i]), e.what()});
                }
            } else if (kind == "set") {
                for (auto& name : r.at("names")) {
                    auto child = batch[i];
                    child.push_back(name.get<std::string>());
                    q.pending.push_back(std::move(child));
                }
            } else if (kind == "failed") {
                q.retries.push_back({batch[i]}); // alone, to get Nix's message
            }
        }
    }

    const JobSource& src_;
    const EvalWorkerOptions& opts_;
    Sync<Queue> queue_;
    std::condition_variable changed_;
    std::stop_source abort_;
};

} // namespace

JobsEvaluation evaluateJobs(const JobSource& src, const EvalWorkerOptions& opts, const std::stop_token& stop,
                            const std::function<void(const EvalProgress&)>& onProgress)
{
    Evaluation eval(src, opts);
    std::stop_callback link(stop, [&] { eval.abort().request_stop(); });
    try {
        eval.listTop();
        eval.run(onProgress);
    } catch (const EvalInterrupted&) {
        throw Error("evaluation of {} interrupted", describe(src));
    }
    if (stop.stop_requested()) throw Error("evaluation of {} interrupted", describe(src));
    auto result = eval.take();
    log::debug("evaluated {}: {} jobs, {} errors", describe(src), result.jobs.size(), result.errors.size());
    return result;
}

} // namespace hydra::evaluator

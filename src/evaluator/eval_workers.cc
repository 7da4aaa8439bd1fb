#include "evaluator/eval_workers.hh"

#include "evaluator/aggregates.hh"
#include "evaluator/job_json.hh"
#include "evaluator/worker_batch.hh"
#include "evaluator/worker_expr.hh"
#include "nix/gc_roots.hh"
#include "util/logging.hh"
#include "util/sync.hh"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>

namespace hydra::evaluator {

namespace {

using namespace std::chrono_literals;

// Results stream out as they are found, so a worker killed for its memory loses only the path it
// was on: batches can be large, and few batches mean few starts of Nix.
constexpr size_t maxBatchSize = 10000;

// How deep the listing opens nested sets (nixpkgs' release sets nest two or three levels);
// deeper ones are opened by the workers, a round each.
constexpr unsigned listingDepth = 4;

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
    Evaluation(const JobSource& src, const EvalWorkerOptions& opts) : src_(src), opts_(opts)
    {
        if (opts.gcRootsDir) roots_.emplace(*opts.gcRootsDir);
    }

    /// Lists the jobs, nested sets opened, so that the first batches share out every job: a
    /// set found later costs another round of processes, each evaluating again what its jobs
    /// depend on. Only a failure of the top level is the failure of the whole expression; when
    /// the listing dies below it, the names it did not open are given to the workers as they are.
    void listTop()
    {
        auto o = runListing(src_, opts_, listingDepth, abort_.get_token());
        if (o.end == BatchOutcome::End::OutOfMemory) o.error = memoryError();
        if (o.results.empty()) throw ExpressionError("evaluating {}: {}", describe(src_), o.error);
        const auto& names = o.results[0].at("names");
        if (o.end != BatchOutcome::End::Complete)
            log::info("listing the jobs of {} stopped after {} of {} names: {}", describe(src_),
                      o.results.size() - 1, names.size(), o.error);
        auto q = queue_.lock();
        for (size_t i = 0; i < names.size(); ++i) {
            if (i + 1 >= o.results.size()) {
                q->pending.push_back({names[i].get<std::string>()});
                continue;
            }
            for (const auto& path : o.results[i + 1].at("paths")) q->pending.push_back(path.get<AttrPath>());
        }
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
                auto started = std::chrono::steady_clock::now();
                auto o = runBatch(src_, opts_, *batch, batch->size() > 1, abort_.get_token());
                log::debug("evaluated {} of a batch of {} attribute paths in {} ms", o.results.size(),
                           batch->size(),
                           std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::steady_clock::now() - started)
                               .count());
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

    /// The next batch: a retried one first, else an even share of the pending paths among the
    /// idle workers (every batch pays for starting Nix and importing the expression once).
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
            size_t idle = std::max<size_t>(1, std::max(opts_.workers, 1u) - q->running);
            size_t n = std::clamp<size_t>((q->pending.size() + idle - 1) / idle, 1, q->maxBatch);
            batch.assign(std::make_move_iterator(q->pending.begin()),
                         std::make_move_iterator(q->pending.begin() + static_cast<std::ptrdiff_t>(n)));
            q->pending.erase(q->pending.begin(), q->pending.begin() + static_cast<std::ptrdiff_t>(n));
        }
        q->running++;
        q->inFlight += batch.size();
        return batch;
    }

    void finishBatch(const std::vector<AttrPath>& batch, const std::exception_ptr& failure = nullptr)
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
        if (roots_)
            for (const auto& r : o.results)
                if (r.value("t", "") == "job" && r.contains("drvPath"))
                    roots_->add(r["drvPath"].get<std::string>());
        {
            auto q = queue_.lock();
            absorbResults(*q, batch, o.results);
            if (o.end != BatchOutcome::End::Complete) afterDeath(*q, batch, o);
        }
        finishBatch(batch);
    }

    /// A worker died on the path after its last result: an error tryEval cannot catch is that
    /// path's error; too much memory is its error only when it was alone. The paths after it
    /// go back to the queue.
    void afterDeath(Queue& q, const std::vector<AttrPath>& batch, const BatchOutcome& o) const
    {
        size_t k = o.results.size();
        if (k >= batch.size()) return;
        auto rest = batch.begin() + static_cast<std::ptrdiff_t>(k) + 1;
        if (o.end == BatchOutcome::End::OutOfMemory) {
            q.maxBatch = std::max<size_t>(1, std::min(q.maxBatch, batch.size() / 2));
            if (batch.size() == 1) {
                q.result.errors.push_back({jobName(batch[k]), memoryError()});
            } else if (k > 0) {
                rest = batch.begin() + static_cast<std::ptrdiff_t>(k); // it may only be the last straw
            } else {
                q.retries.push_back({batch[k]}); // alone: is it too big by itself?
            }
        } else {
            q.result.errors.push_back({jobName(batch[k]), o.error});
        }
        if (rest != batch.end()) q.retries.emplace_back(rest, batch.end());
    }

    static void absorbResults(Queue& q, const std::vector<AttrPath>& batch,
                              const std::vector<nlohmann::json>& results)
    {
        for (size_t i = 0; i < results.size() && i < batch.size(); ++i) {
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
                q.retries.push_back({batch[i]}); // alone, without tryEval: Nix's message
            }
        }
    }

    const JobSource& src_;
    const EvalWorkerOptions& opts_;
    Sync<Queue> queue_;
    std::condition_variable changed_;
    std::stop_source abort_;
    std::optional<nix::GcRoots> roots_;
};

/// Stops the evaluation when its time is up; destroyed before that, it does nothing.
class Deadline {
public:
    Deadline(std::chrono::seconds limit, std::stop_source& abort)
        : thread_([this, limit, &abort](const std::stop_token& st) {
              std::mutex m;
              std::condition_variable_any cv;
              std::unique_lock lock(m);
              cv.wait_for(lock, st, limit, [] { return false; });
              if (st.stop_requested()) return;
              expired_ = true;
              abort.request_stop();
          })
    {}
    bool expired() const { return expired_; }

private:
    std::atomic<bool> expired_{false};
    std::jthread thread_; // last: it uses expired_
};

} // namespace

JobsEvaluation evaluateJobs(const JobSource& src, const EvalWorkerOptions& opts, const std::stop_token& stop,
                            const std::function<void(const EvalProgress&)>& onProgress)
{
    Evaluation eval(src, opts);
    std::stop_callback link(stop, [&] { eval.abort().request_stop(); });
    Deadline deadline(opts.timeout, eval.abort());
    JobsEvaluation result;
    try {
        eval.listTop();
        eval.run(onProgress);
        result = eval.take();
        if (!eval.abort().stop_requested()) resolveAggregates(result, src, opts, eval.abort().get_token());
    } catch (const EvalInterrupted&) {
        // Only a stop request or the deadline abort an evaluation; which one is said below.
        if (!stop.stop_requested() && !deadline.expired()) throw;
    }
    if (stop.stop_requested()) throw Error("evaluation of {} interrupted", describe(src));
    if (deadline.expired())
        throw ExpressionError("evaluation of {} did not finish within {} s (evaluator_timeout)",
                              describe(src), opts.timeout.count());
    log::debug("evaluated {}: {} jobs, {} errors", describe(src), result.jobs.size(), result.errors.size());
    return result;
}

} // namespace hydra::evaluator

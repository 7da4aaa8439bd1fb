#include "evaluator/evaluator_daemon.hh"

#include "db/jobsets.hh"
#include "db/listener.hh"
#include "db/schema.hh"
#include "evaluator/jobset_schedule.hh"
#include "util/error.hh"
#include "util/logging.hh"
#include "util/strings.hh"
#include "util/sync.hh"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <list>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

namespace hydra::evaluator {

namespace {

/// Why the scheduling loop should look again before its sleep is over; the mutex owns the flag.
class Wakeups {
public:
    void signal()
    {
        {
            std::lock_guard lock(mutex_);
            pending_ = true;
        }
        cv_.notify_all();
    }

    /// Sleeps until signal(), `deadline` or a stop request; clears the signal.
    void waitUntil(std::chrono::steady_clock::time_point deadline, const std::stop_token& stop)
    {
        std::unique_lock lock(mutex_);
        cv_.wait_until(lock, stop, deadline, [&] { return pending_; });
        pending_ = false;
    }

private:
    std::mutex mutex_;
    std::condition_variable_any cv_;
    bool pending_ = false;
};

/// One evaluation in progress on its own thread.
struct RunningEval {
    int jobsetId = 0;
    std::shared_ptr<std::atomic<bool>> done = std::make_shared<std::atomic<bool>>(false);
    std::jthread thread;
};

class EvaluatorDaemon {
public:
    EvaluatorDaemon(const EvaluatorDaemonSettings& s, const Clock& clock)
        : settings_(s), clock_(clock),
          pool_(db::PoolOptions{.conninfo = s.conninfo, .maxConnections = s.maxConcurrentEvals + 2})
    {}

    void run(const std::stop_token& stop)
    {
        db::Listener listener(
            settings_.conninfo,
            {db::channel::jobsetsAdded, db::channel::jobsetsDeleted, db::channel::jobsetSchedulingChanged},
            [this](const std::string&, const std::string&) { wakeups_.signal(); },
            [this] { wakeups_.signal(); });
        log::info("hydra-evaluator: started (max_concurrent_evals {}, evaluator_workers {})",
                  settings_.maxConcurrentEvals, settings_.evaluation.workers.workers);
        unlockAtStart();
        while (!stop.stop_requested()) {
            reap();
            releaseOrphans();
            auto sleep = scheduleRound();
            wakeups_.waitUntil(clock_.now() + sleep, stop);
        }
        listener.stop();
        log::info("hydra-evaluator: stopping; {} evaluations to interrupt", running_.size());
        for (auto& r : running_) r.thread.request_stop();
        running_.clear(); // joins
    }

private:
    /// Starts what is due; returns how long to sleep before the next look.
    std::chrono::seconds scheduleRound()
    {
        std::vector<db::JobsetState> jobsets;
        try {
            jobsets = pool_.withTransaction([](pqxx::work& t) { return db::jobsetsToSchedule(t); });
        } catch (const std::exception& e) {
            log::warn("hydra-evaluator: cannot read the jobsets: {}", oneLine(e.what()));
            return settings_.retryDelay;
        }
        auto now = clock_.unixTime();
        std::set<int> running;
        for (const auto& r : running_) running.insert(r.jobsetId);
        size_t free =
            settings_.maxConcurrentEvals - std::min<size_t>(settings_.maxConcurrentEvals, running_.size());
        for (const auto& j : dueJobsets(jobsets, running, now, free)) start(j);
        // Every slot busy: nothing can start before one ends, and an ending one wakes us.
        if (running_.size() >= settings_.maxConcurrentEvals) return settings_.maxSleep;
        auto sleep = settings_.maxSleep;
        if (auto next = nextDueTime(jobsets, now))
            sleep =
                std::clamp(std::chrono::seconds(*next - now), std::chrono::seconds(1), settings_.maxSleep);
        return sleep;
    }

    void start(const db::JobsetState& j)
    {
        log::info("jobset {}:{}: evaluation starting{}", j.project, j.name,
                  j.triggerTime ? " (triggered)" : "");
        RunningEval& r = running_.emplace_back();
        r.jobsetId = j.id;
        r.thread = std::jthread(
            [this, id = j.id, name = j.project + ":" + j.name, done = r.done](const std::stop_token& st) {
                evaluateOne(id, name, st);
                done->store(true);
                wakeups_.signal();
            });
    }

    void evaluateOne(int jobsetId, const std::string& name, const std::stop_token& st)
    {
        try {
            JobsetEvaluator evaluator(pool_, settings_.evaluation, clock_);
            auto report = evaluator.run(jobsetId, st);
            if (report.outcome == EvalOutcome::Busy) log::info("jobset {}: {}", name, report.error);
        } catch (const std::exception& e) {
            log::error("jobset {}: evaluation aborted: {}", name, oneLine(e.what()));
            orphans_.lock()->insert(jobsetId);
        }
    }

    void reap()
    {
        running_.remove_if([](const RunningEval& r) { return r.done->load(); });
    }

    /// Like Hydra's evaluator: one evaluator serves a database, so a startTime left set at
    /// start-up belongs to a predecessor that died mid-evaluation.
    void unlockAtStart()
    {
        try {
            int n = pool_.withTransaction([](pqxx::work& t) { return db::unlockJobsets(t); });
            if (n)
                log::warn("hydra-evaluator: freed {} jobsets a previous evaluator left marked as running", n);
        } catch (const std::exception& e) {
            log::warn("hydra-evaluator: cannot free stale jobsets: {}", oneLine(e.what()));
        }
    }

    /// Frees jobsets whose evaluation ended in an exception (e.g. the database was away).
    void releaseOrphans()
    {
        auto orphans = orphans_.lock();
        for (auto it = orphans->begin(); it != orphans->end();) {
            try {
                pool_.withTransaction([id = *it](pqxx::work& t) { db::releaseJobset(t, id); });
                it = orphans->erase(it);
            } catch (const std::exception& e) {
                log::warn("jobset {}: cannot free it yet: {}", *it, oneLine(e.what()));
                return;
            }
        }
    }

    const EvaluatorDaemonSettings& settings_;
    const Clock& clock_;
    db::ConnectionPool pool_;
    Wakeups wakeups_;
    std::list<RunningEval> running_; // only the scheduling thread touches the list
    Sync<std::set<int>> orphans_;
};

} // namespace

void runEvaluatorDaemon(const EvaluatorDaemonSettings& settings, const Clock& clock,
                        const std::stop_token& stop)
{
    EvaluatorDaemon daemon(settings, clock);
    daemon.run(stop);
}

int unlockJobsets(const std::string& conninfo)
{
    db::ConnectionPool pool(db::PoolOptions{.conninfo = conninfo, .maxConnections = 1});
    return pool.withTransaction([](pqxx::work& t) { return db::unlockJobsets(t); });
}

} // namespace hydra::evaluator

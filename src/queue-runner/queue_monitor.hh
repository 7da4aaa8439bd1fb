#pragma once
// QueueMonitor: finds queued builds in the database and keeps the BuildQueue in step with it.

#include "db/connection_pool.hh"
#include "nix/gc_roots.hh"
#include "queue-runner/build_queue.hh"
#include "queue-runner/monitor_events.hh"
#include "queue-runner/step_discovery.hh"
#include "queue-runner/substitution_worker.hh"
#include "util/clock.hh"

#include <condition_variable>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <stop_token>

namespace hydra::qr {

/// LISTENs on Hydra's build channels and loads new builds incrementally: builds_added carries
/// the lowest new id, so builds committed out of order by concurrent evaluations are found by
/// looking again from that id. Each new build is checked (missing .drv: aborted; an output in
/// FailedPaths: cached failure; all outputs valid: cached success) or its missing derivations
/// go to the BuildQueue as steps. With use-substitutes, a build with missing derivations first
/// goes to a SubstitutionWorker (its own thread) and comes back to be discovered again.
/// Every `lookInterval` it also compares the queue with the database, for what no notification
/// announced: unknown queued builds are loaded, builds no longer queued dropped, bumps applied.
class QueueMonitor {
public:
    QueueMonitor(db::ConnectionPool& pool, BuildQueue& queue, StepDiscovery discovery,
                 const nix::GcRoots& roots, const Clock& clock,
                 std::function<void(const std::vector<std::string>&)> cancelSteps,
                 std::chrono::seconds lookInterval = std::chrono::seconds(30));

    /// use-substitutes: missing outputs are fetched from the substituters before they become
    /// steps. Call before run().
    void useSubstitutes(SubstituterOptions opts);

    /// Delivered by the listener (on its thread).
    void onNotification(const std::string& channel, const std::string& payload);
    /// Notifications may have been lost: look at everything again.
    void onGap();
    /// Works through events until `stop`.
    void run(const std::stop_token& stop);

    /// The channels onNotification understands.
    static std::vector<std::string> channels();

private:
    MonitorEvents waitForEvents(const std::stop_token& stop);
    void handle(const MonitorEvents& e, const std::stop_token& stop);
    void loadFrom(db::BuildId from, const std::stop_token& stop);
    void processPage(std::vector<db::QueuedBuild>&& builds);
    void process(const db::QueuedBuild& build, bool trySubstitutes = true);
    /// After a discovery: finishes the build if it can (cached failure or success, or to the
    /// substituters); true if it did. `failed` holds the derivations' outputs in FailedPaths.
    bool settle(const db::QueuedBuild& build, Discovery& d, const std::set<std::string>& failed,
                bool trySubstitutes);
    void resumeSubstituted(const std::vector<db::QueuedBuild>& builds);
    std::set<std::string> failedOutputs(const std::vector<const Discovery*>& discoveries);
    bool finishedFromCache(const db::QueuedBuild& build, const Discovery& d,
                           const std::set<std::string>& failed);
    void finishCachedSuccess(const db::QueuedBuild& build, const Discovery& d);
    void reconcile();
    void lookAgain(const std::stop_token& stop);
    void applyBumps();
    void applyShares();

    db::ConnectionPool& pool_;
    BuildQueue& queue_;
    StepDiscovery discovery_;
    const nix::GcRoots& roots_;
    const Clock& clock_;
    std::function<void(const std::vector<std::string>&)> cancelSteps_;
    std::chrono::seconds lookInterval_;
    Clock::TimePoint lastLook_; ///< last full comparison with the database (monitor thread only)
    Sync<MonitorEvents> events_;
    std::condition_variable wake_;
    db::BuildId nextId_ = 0;                          ///< one past the highest build id loaded
    std::unique_ptr<SubstitutionWorker> substituter_; ///< set with use-substitutes
    std::set<db::BuildId> substituting_;              ///< builds with the worker (monitor thread only)
};

} // namespace hydra::qr

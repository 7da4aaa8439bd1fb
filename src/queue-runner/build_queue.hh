#pragma once
// BuildQueue: the queued builds and their steps, shared by the queue monitor, the dispatcher
// and the step threads; the pure Scheduler and the build records behind one lock.

#include "db/queue_store.hh"
#include "nix/derivation.hh"
#include "queue-runner/scheduler.hh"
#include "queue-runner/step_discovery.hh"
#include "util/sync.hh"

#include <condition_variable>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <stop_token>
#include <unordered_map>

namespace hydra::qr {

/// What a step thread needs to run a step: its derivation and the build it is recorded under.
struct StepWork {
    nix::Derivation drv;
    db::QueuedBuild build; ///< a build that needs the step (its limits apply; see HeldBuild)
    unsigned tries = 0;    ///< earlier attempts that ended in a transient failure
};

/// What the queue keeps of a queued build: what its steps and their ends need. Its names
/// (project, jobset, job, system) are left out, so the records it gives back have them empty;
/// its derivation is its top-level step's, which the graph holds.
struct HeldBuild {
    int64_t timestamp = 0;
    int jobsetId = 0;
    int globalPriority = 0;
    int priority = 0;
    int maxSilent = 0;
    int timeout = 0;
    int schedulingShares = 0;

    explicit HeldBuild(const db::QueuedBuild& b);
    db::QueuedBuild record(BuildId id, const std::string& drvPath) const;
};

/// The builds a step's end would finish, with their records (see HeldBuild).
struct FinishedBuilds {
    std::vector<db::QueuedBuild> succeeded; ///< top-level step was this one
    std::vector<db::QueuedBuild> failed;    ///< failed with the step (top-level or dependent)
};

/// The builds a step's end took out of the queue, and the running steps no build needs now.
struct EndedBuilds {
    std::vector<BuildId> succeeded;
    std::vector<BuildId> failed;
    std::vector<std::string> orphanedRunning;
};

/// Thread-safe; every method takes the lock once.
class BuildQueue {
public:
    BuildQueue(const Clock& clock, SchedulerConfig config);

    bool containsBuild(BuildId id) const;
    bool containsStep(const std::string& drvPath) const;
    std::vector<BuildId> buildIds() const;
    size_t buildCount() const;

    /// Seeds fair share and expected durations from the steps of the recent past; at start-up.
    void seedHistory(const std::vector<db::RecentStep>& steps);
    /// Adds a build with the steps discovery found and wakes the dispatcher. False, adding
    /// nothing, when a step the discovery counted on (knownInputs) has left the queue since — it
    /// may have failed, so its dependents must not run as if it had been built: discover again.
    bool add(const db::QueuedBuild& build, Discovery&& discovery);
    /// add() for many builds under one lock, waking the dispatcher once; returns the indices
    /// (ascending) of the builds refused, to be discovered again.
    std::vector<size_t> addAll(std::vector<std::pair<db::QueuedBuild, Discovery>>& builds);
    /// Removes a cancelled or deleted build; returns running steps no build needs any more.
    std::vector<std::string> remove(BuildId id);
    void bump(BuildId id, int globalPriority);
    void setJobsetShares(int64_t jobset, unsigned shares);

    /// One dispatch round over `machines` (see Scheduler::dispatch).
    DispatchResult dispatch(std::vector<DispatchMachine>& machines);
    /// The work for a step handed out by dispatch; nullopt if it left the queue meanwhile. Its
    /// derivation is the one its discovery handed over, or else read from the store (nullopt,
    /// and the step back in the queue a minute later, if its .drv cannot be read).
    std::optional<StepWork> work(const std::string& drvPath);
    /// The builds the step's end would finish (`succeeded`: its top-level builds, else every
    /// build needing it), changing nothing: the database records them before the queue forgets
    /// them, so a failed commit leaves both as they were.
    FinishedBuilds finishing(const std::string& drvPath, bool succeeded) const;
    EndedBuilds succeeded(const std::string& drvPath, std::chrono::seconds duration);
    EndedBuilds failed(const std::string& drvPath, std::chrono::seconds duration);
    /// A transient failure: the step runs again after `delay`; counts the attempt.
    void retry(const std::string& drvPath, Clock::Duration delay);
    /// The step did not run (no slot after all, or stopped): back to the queue after `delay`,
    /// not counted.
    void requeue(const std::string& drvPath, Clock::Duration delay = {});

    /// Queue figures for the status JSON: nrQueuedBuilds, nrUnfinishedSteps, nrRunnableSteps,
    /// nrStepsWaiting (runnable, not running), the counters nrBuildsDone (finished by a step's
    /// end), nrStepsDone (steps that succeeded or failed for good), nrRetries, and per step type
    /// under machineTypes: runnable and waitTime (seconds its runnable steps have waited, summed).
    nlohmann::json statusJson() const;

    /// Sleeps until something changed since the last dispatch() (an added build, a step's
    /// end, notify()) or `timeout`; false if it timed out or `stop` came. Used by the dispatcher.
    bool waitForWork(const std::stop_token& stop, std::chrono::milliseconds timeout);
    void notify();

private:
    struct State {
        explicit State(const Clock& clock, SchedulerConfig config) : scheduler(clock, config) {}
        Scheduler scheduler;
        std::unordered_map<BuildId, HeldBuild> builds;
        /// Derivations the discoveries handed over (the daemon hands none: work() reads them).
        std::unordered_map<std::string, nix::Derivation> derivations;
        std::unordered_map<std::string, unsigned> tries;
        uint64_t wakeups = 0;
        uint64_t wakeupsDispatched = 0; ///< `wakeups` as the last dispatch() saw it
        uint64_t buildsDone = 0;
        uint64_t stepsDone = 0;
        uint64_t retries = 0;
    };
    static bool addLocked(State& s, const db::QueuedBuild& build, Discovery& discovery);
    static std::optional<db::QueuedBuild> buildFor(const State& s, StepIndex index);
    static EndedBuilds collect(State& s, const std::vector<BuildId>& ok, const std::vector<BuildId>& bad,
                               const std::vector<Orphan>& orphans);
    static void forget(State& s, const std::vector<Orphan>& orphans);

    mutable Sync<State> state_;
    std::condition_variable wake_;
};

} // namespace hydra::qr

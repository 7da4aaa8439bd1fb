#pragma once
// Scheduler: the pure core of the queue runner. It owns the step graph, the run queue, fair
// share and duration history, and decides which runnable step goes to which machine.
//
// No I/O, no threads, no database: the dispatcher calls it under one lock, passes machine
// snapshots, and does what it returns. Time comes from the injected hydra::Clock.
//
// Order of runnable steps (first wins): highest global priority; lowest share used by the
// step's jobset (FairShare: build seconds in a sliding window / schedulingShares); highest
// local priority; longest critical path (expected durations up to the top-level step, from
// DurationHistory); lowest build id. One queue per step type (system + required features +
// preferLocalBuild), so a step whose machines are busy never blocks other types.
//
// dispatch(): the machines able to run each type are recomputed only when the machine list
// changes; then, while some type has a free supporting machine and a head, the best head
// across types goes to the least loaded such machine. A type's head is found among the heads
// of its jobsets at the top global priority, under the shares of the moment. The cost is
// O(assignments x (types x machines + jobsets at the top level)), independent of the queue's
// length (bench/scheduler_bench.cc).

#include "queue-runner/fair_share.hh"
#include "queue-runner/sched_durations.hh"
#include "queue-runner/sched_history.hh"
#include "queue-runner/sched_machine_choice.hh"
#include "queue-runner/sched_run_queue.hh"
#include "queue-runner/step_graph.hh"
#include "util/clock.hh"

#include <chrono>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

namespace hydra::qr {

/// The order of runnable steps inside a global priority, share and local priority.
enum class StepOrder {
    CriticalPath, ///< longest critical path first, then lowest build id (this project's default)
    Classic,      ///< lowest build id first, as Hydra's queue runner orders them
};

/// Tunables of the scheduler (from hydra.conf where Hydra has a key).
struct SchedulerConfig {
    Clock::Duration maxUnsupportedTime{0}; ///< max_unsupported_time; 0: report at once
    Clock::Duration fairShareWindow = std::chrono::hours(24);
    unsigned defaultShares = 100;                 ///< Jobsets.schedulingShares default
    std::chrono::seconds defaultStepDuration{60}; ///< expected duration with no history
    StepOrder order = StepOrder::CriticalPath;
};

/// One decision of dispatch: run this step on this machine.
struct Assignment {
    std::string drvPath;
    size_t machine = 0; ///< index into the machines passed to dispatch
    std::string machineName;
    std::string stepType; ///< e.g. "x86_64-linux:kvm"
};

/// Everything one dispatch round decided.
struct DispatchResult {
    std::vector<Assignment> assignments;
    /// Steps no machine has supported for maxUnsupportedTime: fail them with status 9 (stepFailed).
    std::vector<std::string> unsupported;
};

/// Queue sizes of one step type, for the status output.
struct TypeStatus {
    std::string name;
    size_t runnable = 0;
    std::chrono::milliseconds waited{}; ///< how long its runnable steps have waited, summed
};

/// Decides which runnable step runs on which machine; see the file comment.
class Scheduler {
public:
    explicit Scheduler(const Clock& clock, SchedulerConfig config = {});

    /// See StepGraph::addBuild.
    size_t addBuild(const BuildSpec& build, const std::vector<StepSpec>& steps);
    /// The step built; `duration` is charged to its jobsets' fair share and its history.
    StepSuccess stepSucceeded(const std::string& drvPath, std::chrono::seconds duration);
    /// The step failed for good (or was reported unsupported); `duration` is charged as used.
    StepFailure stepFailed(const std::string& drvPath, std::chrono::seconds duration = {});
    /// See StepGraph::removeBuild.
    std::vector<Orphan> removeBuild(BuildId id);
    /// See StepGraph::bumpBuild.
    bool bumpBuild(BuildId id, int globalPriority);
    /// A running step goes back to the queue after `delay` (retry, machine failure). False if
    /// the step is unknown.
    bool requeueStep(const std::string& drvPath, Clock::Duration delay = {});

    /// Jobsets.schedulingShares changed (jobset_shares_changed).
    void setJobsetShares(JobsetId jobset, unsigned shares) { fairShare_.setShares(jobset, shares); }
    /// Expected duration of a job name or derivation name (e.g. loaded from past BuildSteps).
    void setExpectedDuration(std::string_view key, std::chrono::seconds d) { durations_.set(key, d); }
    /// Fair share and durations from the steps of the recent past (see sched_history.hh); call
    /// before builds are added, whose steps take their expected durations when created.
    void seedHistory(std::span<const PastStep> steps);

    /// Assigns runnable steps to free machine slots (incrementing their inUse) and reports
    /// steps no machine supports. Assigned steps are Running, reported ones Held.
    DispatchResult dispatch(std::vector<DispatchMachine>& machines);

    const StepGraph& graph() const { return graph_; }
    size_t runnableCount() const { return queue_.size(); }
    std::vector<TypeStatus> typeStatus() const;
    FairShare& fairShare() { return fairShare_; }

private:
    void releaseDelayed(Clock::TimePoint now);
    /// The types with runnable steps that some machine can run; reports (into `unsupported`)
    /// those no machine has run for maxUnsupportedTime.
    std::vector<TypeId> activeTypes(Clock::TimePoint now, std::vector<std::string>& unsupported);
    /// Hands `pick` to the best open machine for it; returns that machine.
    size_t assign(const RunQueue::Candidate& pick, std::vector<DispatchMachine>& machines,
                  Clock::TimePoint now, DispatchResult& result);
    void reportUnsupported(TypeId type, Clock::TimePoint now, std::vector<std::string>& out);
    /// Recomputes support_ (machines able to run each type) when the machine list changed.
    void refreshSupport(const std::vector<DispatchMachine>& machines);
    void chargeUsage(StepIndex index, std::chrono::seconds duration, Clock::TimePoint now);

    const Clock& clock_;
    SchedulerConfig config_;
    DurationHistory durations_;
    FairShare fairShare_;
    RunQueue queue_;
    StepGraph graph_;
    std::vector<std::optional<Clock::TimePoint>> unsupportedSince_; // by type
    std::vector<std::vector<size_t>> support_;                      // by type: machine indices
    std::vector<std::vector<char>> canTake_; // by type, then machine index: support_ as a table
    /// The machines support_ was computed for, with their max jobs.
    std::vector<std::pair<std::shared_ptr<const nix::Machine>, unsigned>> supportFor_;
    /// What a dispatch round works with, kept so that a round allocates nothing it did before.
    struct RoundBuffers {
        std::unordered_map<JobsetId, double> shares;
        std::vector<size_t> open; ///< machines with a free slot
        std::vector<size_t> candidates;
        std::vector<std::optional<RunQueue::Candidate>> heads; ///< by type
        std::vector<char> known;                               ///< by type: heads[t] is current
    } round_;
    std::vector<std::string> typeNames_; ///< by type, made on first use
    /// Held steps waiting to be requeued: (when, step, generation at the time).
    std::set<std::tuple<Clock::TimePoint, StepIndex, uint32_t>> delayed_;
};

} // namespace hydra::qr

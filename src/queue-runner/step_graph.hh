#pragma once
// StepGraph: the queued builds and the build steps they need, shared between builds.
//
// Design (pure: no I/O, no threads; the caller passes the time):
// - A step is one derivation to build, keyed by its .drv path, stored under a compact index
//   (slots are reused once a step leaves the graph; outside callers use drv paths).
// - Edges: `deps` are the step's unfinished input steps, `rdeps` the steps that wait for it.
//   A step is Runnable when `deps` is empty. A finished step leaves the graph and its rdeps
//   lose the edge.
// - Ownership: a step is needed while it is the top-level step of a build or some needed
//   step depends on it (refcount = |topOf| + |rdeps|). Removing a build releases its
//   top-level step; steps whose count drops to 0 are removed in cascade ("orphans").
//   Keeping all builds of every step instead would cost O(steps x builds) memory at
//   hydra.nixos.org's scale (every build needs the bootstrap steps).
// - Scheduling attributes are aggregated over the builds that need a step (transitively):
//   highest global and local priority, lowest build id, the jobsets, and the critical path
//   (the step's expected duration plus the longest chain of expected durations above it up
//   to a top-level step). Like Hydra's, they only grow while the step is in the graph: a
//   removed build does not lower them (its steps are usually removed with it).
//   Propagation visits steps from the top in decreasing `height` (a topological order), so
//   every step is updated at most once per build added and stops where nothing changes.
// - Every change of a Runnable step's attributes or state is told to a StepObserver (the run
//   queue), so the scheduler's ordered structures stay current without re-scanning.

#include "queue-runner/fair_share.hh"
#include "queue-runner/sched_durations.hh"
#include "queue-runner/step_index_set.hh"
#include "util/clock.hh"

#include <compare>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace hydra::qr {

using BuildId = int64_t;
using StepIndex = uint32_t;
using TypeId = uint32_t;

/// The kind of machine a step needs; the scheduler keeps one queue per step type.
struct StepType {
    std::string system;
    std::set<std::string> requiredFeatures;
    bool preferLocalBuild = false;

    /// Hydra's machine-type name: "x86_64-linux" or "x86_64-linux:big-parallel,kvm".
    std::string name() const;
    bool operator==(const StepType&) const = default;
    // Spelled out: clang-tidy 14 misreads a defaulted operator<=> (modernize-use-nullptr).
    bool operator<(const StepType& o) const
    {
        return std::tie(system, requiredFeatures, preferLocalBuild) <
               std::tie(o.system, o.requiredFeatures, o.preferLocalBuild);
    }
};

/// One derivation of a build to add, with the input derivations that are steps too.
struct StepSpec {
    std::string drvPath;
    std::string system;
    std::set<std::string> requiredFeatures;
    bool preferLocalBuild = false;
    /// Input .drv paths; those neither in the same addBuild nor in the graph count as built.
    std::vector<std::string> inputDrvs;
};

/// A queued build as the scheduler needs it.
struct BuildSpec {
    BuildId id = 0;
    JobsetId jobset = 0;
    int globalPriority = 0; ///< Builds.globalPriority (raised by a bump)
    int localPriority = 0;  ///< Builds.priority
    std::string jobName;    ///< "project:jobset:job": key of the top-level step's duration history
    std::string topLevelDrv;
};

/// Where a step is in its life; only Runnable steps are in the run queue.
enum class StepState : uint8_t {
    Waiting,  ///< some dependency is not built yet
    Runnable, ///< ready, waiting for a machine
    Running,  ///< handed to a machine by dispatch
    Held,     ///< ready but kept out of the queue (retry delay, reported unsupported)
};

/// A build step in the graph; read-only outside StepGraph.
struct Step {
    std::string drvPath;
    TypeId type = 0;
    StepState state = StepState::Waiting;
    uint32_t generation = 0; ///< bumped when the slot is reused, to detect stale references
    bool live = false;
    std::vector<StepIndex> deps; ///< unfinished input steps
    StepIndexSet rdeps;          ///< steps waiting for this one
    std::vector<BuildId> topOf;  ///< builds whose top-level step this is
    uint32_t height = 0;         ///< 1 + max height of deps at creation: topological
    int globalPriority = std::numeric_limits<int>::min();
    int localPriority = std::numeric_limits<int>::min();
    BuildId lowestBuildId = std::numeric_limits<BuildId>::max();
    std::vector<JobsetId> jobsets; ///< sorted, unique
    int64_t expectedSeconds = 0;
    int64_t criticalPath = 0; ///< seconds, this step and the chain above it
    /// The history of its job name if created as a top-level step, else of its derivation name.
    DurationHistory::Entry* duration = nullptr;
    Clock::TimePoint runnableSince{};
};

/// A build in the graph: what propagating its attributes needs (its names only when adding).
struct Build {
    BuildId id = 0;
    JobsetId jobset = 0;
    int globalPriority = 0;
    int localPriority = 0;
    StepIndex topLevel = 0;
};

/// Steps by index, in chunks that never move: no copy when growing, no unused capacity beyond
/// one chunk, and references (drvPath's characters above all) stay valid.
class StepSlots {
public:
    Step& operator[](StepIndex i) { return chunks_[i / chunkSize][i % chunkSize]; }
    const Step& operator[](StepIndex i) const { return chunks_[i / chunkSize][i % chunkSize]; }
    size_t size() const { return size_; }
    void emplace_back()
    {
        if (size_ % chunkSize == 0) chunks_.push_back(std::make_unique<Step[]>(chunkSize));
        ++size_;
    }

private:
    static constexpr size_t chunkSize = 1024;
    std::vector<std::unique_ptr<Step[]>> chunks_;
    size_t size_ = 0;
};

/// Told about every entry to, exit from and key change in the set of Runnable steps.
class StepObserver {
public:
    virtual ~StepObserver() = default;
    /// The step is Runnable and its attributes are new or changed: (re)insert it.
    virtual void enqueue(StepIndex index, const Step& step) = 0;
    /// The step is no longer Runnable, or is about to change: take it out (no-op if absent).
    /// Called before any of its attributes change, so `step` is as it was enqueued.
    virtual void dequeue(StepIndex index, const Step& step) = 0;
};

/// A step no remaining build needs; running ones should be stopped on their machine.
struct Orphan {
    std::string drvPath;
    bool wasRunning = false;
};

/// What a successful step means for the graph.
struct StepSuccess {
    bool known = false;                   ///< false: the step was not in the graph
    std::vector<BuildId> finishedBuilds;  ///< builds whose top-level step this was: done
    std::vector<StepIndex> newlyRunnable; ///< indices, not paths: no string copied per step
    std::vector<Orphan> orphaned;         ///< only if the step succeeded before its deps (rare)
};

/// What a failed step means for the graph.
struct StepFailure {
    bool known = false;
    std::vector<BuildId> failedBuilds;    ///< top-level step was the failed one (status 1 or alike)
    std::vector<BuildId> depFailedBuilds; ///< depend on it transitively (status 2)
    std::vector<Orphan> orphaned;         ///< other steps only those builds needed
};

/// The dependency graph of build steps of all queued builds.
class StepGraph {
public:
    explicit StepGraph(DurationHistory& durations) : durations_(durations) {}
    StepGraph(const StepGraph&) = delete;
    StepGraph& operator=(const StepGraph&) = delete;

    void setObserver(StepObserver* observer) { observer_ = observer; }

    /// Adds a build and its not-yet-built steps (merged with steps already present by drv
    /// path). Returns the number of new steps; 0 and no change if the build is already here.
    /// Throws hydra::Error if the top-level drv is neither given nor present, or on a cycle.
    size_t addBuild(const BuildSpec& build, const std::vector<StepSpec>& steps, Clock::TimePoint now);

    /// The step's outputs are valid: it leaves the graph, its rdeps may become runnable.
    StepSuccess stepSucceeded(const std::string& drvPath, Clock::TimePoint now);
    StepSuccess stepSucceeded(StepIndex index, Clock::TimePoint now);

    /// The step failed for good: every build depending on it is removed and returned.
    StepFailure stepFailed(const std::string& drvPath);
    StepFailure stepFailed(StepIndex index);
    /// The builds stepFailed would end (orphans aside), changing nothing.
    StepFailure buildsFailedBy(const std::string& drvPath) const;

    /// Removes a build (cancelled, deleted); returns the steps no build needs any more.
    std::vector<Orphan> removeBuild(BuildId id);

    /// Raises the build's global priority to `globalPriority` (never lowers) and propagates it
    /// to all its steps. False if the build is unknown.
    bool bumpBuild(BuildId id, int globalPriority);

    /// Moves a ready step between Runnable, Running and Held (the scheduler's decisions).
    void setState(StepIndex index, StepState state, Clock::TimePoint now);

    std::optional<StepIndex> find(const std::string& drvPath) const;
    const Step& step(StepIndex index) const { return steps_[index]; }
    const Build* build(BuildId id) const;
    const StepType& type(TypeId id) const { return types_[id]; }
    size_t typeCount() const { return types_.size(); }
    size_t stepCount() const { return byDrv_.size(); }
    size_t buildCount() const { return builds_.size(); }

private:
    StepIndex createStep(const StepSpec& spec, const BuildSpec& build, bool topLevel);
    TypeId internType(const StepSpec& spec);
    void propagate(StepIndex top, const BuildSpec& build);
    bool wouldChange(const Step& step, const BuildSpec& build, int64_t criticalPath) const;
    void merge(StepIndex index, const BuildSpec& build, int64_t criticalPath);
    void makeRunnableIfReady(StepIndex index, Clock::TimePoint now);
    /// Adds the builds needing `failed` to `result`; returns the steps above it, itself included.
    std::unordered_set<StepIndex> collectAbove(StepIndex failed, StepFailure& result) const;
    /// Removes a build and releases its top-level step; orphans in `quiet` are not reported.
    void detachBuild(BuildId id, std::vector<Orphan>& orphans, const std::unordered_set<StepIndex>* quiet);
    /// Removes the step if nothing needs it, then its dependencies in cascade.
    void release(StepIndex index, std::vector<Orphan>& orphans, const std::unordered_set<StepIndex>* quiet);
    void destroy(StepIndex index);

    DurationHistory& durations_;
    StepObserver* observer_ = nullptr;
    StepSlots steps_;
    std::vector<StepIndex> freeSlots_;
    /// Keys view the steps' own drvPath (Steps never move): each path is held once.
    std::unordered_map<std::string_view, StepIndex> byDrv_;
    std::unordered_map<BuildId, Build> builds_;
    std::vector<StepType> types_;
    std::map<StepType, TypeId> typeIds_;
};

} // namespace hydra::qr

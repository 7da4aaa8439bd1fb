#pragma once
// RunQueue: the Runnable steps of every step type, kept in scheduling order incrementally.
//
// Per step type: levels by global priority (highest first); in each level one ordered set
// per jobset, ordered by local priority (highest first), critical path (longest first),
// lowest build id, step index. A step needed by several jobsets is in each of their sets,
// so it competes with the best share among its jobsets (as Hydra's lowestShareUsed).
// Fair share changes with time, so it is not part of any stored key: best() compares the
// heads of the jobsets of the top level under the shares of the moment. Insert and erase
// are O(jobsets of the step x log n); best() is O(jobsets with runnable steps of the type at
// the top level). Nothing here is proportional to the number of queued steps.

#include "queue-runner/step_graph.hh"

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>
#include <vector>

namespace hydra::qr {

/// Runnable steps per step type in scheduling order; a StepObserver fed by the StepGraph.
class RunQueue final : public StepObserver {
public:
    /// `byCriticalPath` false leaves the critical path out of the order (Hydra's classic order).
    explicit RunQueue(bool byCriticalPath = true) : byCriticalPath_(byCriticalPath) {}

    /// The order inside one (type, global priority, jobset) set; smaller is better.
    struct Key {
        int localPriority;
        int64_t criticalPath;
        BuildId lowestBuildId;
        StepIndex step;
        bool operator<(const Key& o) const;
    };

    /// The best step of a type under the given shares.
    struct Candidate {
        StepIndex step;
        TypeId type;
        int globalPriority;
        double shareUsed;
        Key key;
        /// Scheduling order between candidates (also across types); true if this goes first.
        bool before(const Candidate& o) const;
    };

    void enqueue(StepIndex index, const Step& step) override;
    void dequeue(StepIndex index, const Step& step) override;

    /// The first step of `type`, with `shareOf(jobset)` giving each jobset's share used.
    std::optional<Candidate> best(TypeId type, const std::function<double(JobsetId)>& shareOf) const;

    /// Calls `f(index, runnableSince)` in order of runnableSince until it returns false.
    void forEachOldest(TypeId type, const std::function<bool(StepIndex, Clock::TimePoint)>& f) const;

    size_t size(TypeId type) const;
    /// How long the runnable steps of `type` have waited at `now` (since they became runnable),
    /// summed; O(1).
    std::chrono::milliseconds waited(TypeId type, Clock::TimePoint now) const;
    size_t size() const { return total_; }
    /// Types that have had runnable steps (indices < this have a queue).
    size_t typeSlots() const { return types_.size(); }

private:
    using Level = std::unordered_map<JobsetId, std::set<Key>>;
    struct TypeQueue {
        std::map<int, Level, std::greater<>> levels;
        std::set<std::pair<Clock::TimePoint, StepIndex>> bySince;
        size_t size = 0;
        int64_t sinceMsSum = 0; ///< runnableSince of the queued steps, in ms of the clock, summed
    };
    Key keyOf(StepIndex index, const Step& step) const;

    bool byCriticalPath_;
    std::vector<TypeQueue> types_;
    /// By step index. Nothing else is kept per step: its key and sets are found again from
    /// the step itself, which the graph leaves unchanged while the step is queued.
    std::vector<bool> queued_;
    size_t total_ = 0;
};

} // namespace hydra::qr

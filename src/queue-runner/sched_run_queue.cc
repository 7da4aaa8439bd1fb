#include "queue-runner/sched_run_queue.hh"

#include <cassert>
#include <tuple>

namespace hydra::qr {

namespace {

// Milliseconds fit a sum over millions of steps in 64 bits; the steady clock counts from boot.
int64_t sinceMs(Clock::TimePoint t)
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

} // namespace

bool RunQueue::Key::operator<(const Key& o) const
{
    return std::tie(o.localPriority, o.criticalPath, lowestBuildId, step) <
           std::tie(localPriority, criticalPath, o.lowestBuildId, o.step);
}

bool RunQueue::Candidate::before(const Candidate& o) const
{
    if (globalPriority != o.globalPriority) return globalPriority > o.globalPriority;
    if (shareUsed != o.shareUsed) return shareUsed < o.shareUsed;
    return key < o.key;
}

RunQueue::Key RunQueue::keyOf(StepIndex index, const Step& step) const
{
    return Key{step.localPriority, byCriticalPath_ ? step.criticalPath : 0, step.lowestBuildId, index};
}

void RunQueue::enqueue(StepIndex index, const Step& step)
{
    if (queued_.size() <= index) queued_.resize(index + 1);
    // The graph takes a step out before changing it, so a queued step is never enqueued again.
    assert(!queued_[index]);
    if (queued_[index]) return;
    queued_[index] = true;
    if (types_.size() <= step.type) types_.resize(step.type + 1);
    auto key = keyOf(index, step);
    auto& q = types_[step.type];
    auto& level = q.levels[step.globalPriority];
    for (JobsetId j : step.jobsets) level[j].insert(key);
    q.bySince.emplace(step.runnableSince, index);
    q.sinceMsSum += sinceMs(step.runnableSince);
    ++q.size;
    ++total_;
}

void RunQueue::dequeue(StepIndex index, const Step& step)
{
    if (index >= queued_.size() || !queued_[index]) return;
    queued_[index] = false;
    // The step is as it was enqueued (see StepObserver), so its key finds its entries.
    auto key = keyOf(index, step);
    auto& q = types_[step.type];
    auto level = q.levels.find(step.globalPriority);
    assert(level != q.levels.end());
    for (JobsetId j : step.jobsets) {
        auto set = level->second.find(j);
        assert(set != level->second.end());
        [[maybe_unused]] auto erased = set->second.erase(key);
        assert(erased == 1);
        if (set->second.empty()) level->second.erase(set);
    }
    if (level->second.empty()) q.levels.erase(level);
    [[maybe_unused]] auto erased = q.bySince.erase({step.runnableSince, index});
    assert(erased == 1);
    q.sinceMsSum -= sinceMs(step.runnableSince);
    --q.size;
    --total_;
}

std::optional<RunQueue::Candidate> RunQueue::best(TypeId type,
                                                  const std::function<double(JobsetId)>& shareOf) const
{
    if (type >= types_.size() || types_[type].levels.empty()) return std::nullopt;
    const auto& [globalPriority, level] = *types_[type].levels.begin();
    std::optional<Candidate> best;
    for (const auto& [jobset, keys] : level) {
        Candidate c{keys.begin()->step, type, globalPriority, shareOf(jobset), *keys.begin()};
        if (!best || c.before(*best)) best = c;
    }
    return best;
}

void RunQueue::forEachOldest(TypeId type, const std::function<bool(StepIndex, Clock::TimePoint)>& f) const
{
    if (type >= types_.size()) return;
    for (const auto& [since, index] : types_[type].bySince)
        if (!f(index, since)) return;
}

size_t RunQueue::size(TypeId type) const
{
    return type < types_.size() ? types_[type].size : 0;
}

std::chrono::milliseconds RunQueue::waited(TypeId type, Clock::TimePoint now) const
{
    if (type >= types_.size()) return {};
    const auto& q = types_[type];
    return std::chrono::milliseconds(static_cast<int64_t>(q.size) * sinceMs(now) - q.sinceMsSum);
}

} // namespace hydra::qr

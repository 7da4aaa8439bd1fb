#include "queue-runner/sched_run_queue.hh"

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

void RunQueue::enqueue(StepIndex index, const Step& step)
{
    dequeue(index);
    if (entries_.size() <= index) entries_.resize(index + 1);
    if (types_.size() <= step.type) types_.resize(step.type + 1);
    auto& e = entries_[index];
    e.queued = true;
    e.type = step.type;
    e.globalPriority = step.globalPriority;
    e.key = Key{step.localPriority, byCriticalPath_ ? step.criticalPath : 0, step.lowestBuildId, index};
    e.since = step.runnableSince;
    e.jobsets = step.jobsets;
    auto& q = types_[step.type];
    auto& level = q.levels[e.globalPriority];
    for (JobsetId j : e.jobsets) level[j].insert(e.key);
    q.bySince.emplace(e.since, index);
    q.sinceMsSum += sinceMs(e.since);
    ++q.size;
    ++total_;
}

void RunQueue::dequeue(StepIndex index)
{
    if (index >= entries_.size() || !entries_[index].queued) return;
    auto& e = entries_[index];
    auto& q = types_[e.type];
    auto level = q.levels.find(e.globalPriority);
    for (JobsetId j : e.jobsets) {
        auto set = level->second.find(j);
        set->second.erase(e.key);
        if (set->second.empty()) level->second.erase(set);
    }
    if (level->second.empty()) q.levels.erase(level);
    q.bySince.erase({e.since, index});
    q.sinceMsSum -= sinceMs(e.since);
    e.queued = false;
    e.jobsets.clear();
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

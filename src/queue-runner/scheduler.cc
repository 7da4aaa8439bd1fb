#include "queue-runner/scheduler.hh"

#include <algorithm>
#include <unordered_map>

namespace hydra::qr {

Scheduler::Scheduler(const Clock& clock, SchedulerConfig config)
    : clock_(clock), config_(config), durations_(config.defaultStepDuration),
      fairShare_(config.fairShareWindow, config.defaultShares),
      queue_(config.order == StepOrder::CriticalPath), graph_(durations_)
{
    graph_.setObserver(&queue_);
}

size_t Scheduler::addBuild(const BuildSpec& build, const std::vector<StepSpec>& steps)
{
    return graph_.addBuild(build, steps, clock_.now());
}

void Scheduler::chargeUsage(StepIndex index, std::chrono::seconds duration, Clock::TimePoint now)
{
    for (JobsetId j : graph_.step(index).jobsets) fairShare_.addUsage(j, now, duration);
}

void Scheduler::seedHistory(std::span<const PastStep> steps)
{
    seedFairShare(fairShare_, steps, clock_.now(), clock_.unixTime());
    seedDurations(durations_, steps);
}

StepSuccess Scheduler::stepSucceeded(const std::string& drvPath, std::chrono::seconds duration)
{
    auto now = clock_.now();
    auto index = graph_.find(drvPath);
    if (!index) return {};
    chargeUsage(*index, duration, now);
    if (auto* history = graph_.step(*index).duration) DurationHistory::record(*history, duration);
    return graph_.stepSucceeded(*index, now);
}

StepFailure Scheduler::stepFailed(const std::string& drvPath, std::chrono::seconds duration)
{
    auto index = graph_.find(drvPath);
    if (!index) return {};
    chargeUsage(*index, duration, clock_.now());
    return graph_.stepFailed(*index);
}

std::vector<Orphan> Scheduler::removeBuild(BuildId id)
{
    return graph_.removeBuild(id);
}

bool Scheduler::bumpBuild(BuildId id, int globalPriority)
{
    return graph_.bumpBuild(id, globalPriority);
}

bool Scheduler::requeueStep(const std::string& drvPath, Clock::Duration delay)
{
    auto index = graph_.find(drvPath);
    if (!index || graph_.step(*index).state == StepState::Waiting) return false;
    auto now = clock_.now();
    if (delay <= Clock::Duration::zero()) {
        graph_.setState(*index, StepState::Runnable, now);
    } else {
        graph_.setState(*index, StepState::Held, now);
        delayed_.emplace(now + delay, *index, graph_.step(*index).generation);
    }
    return true;
}

void Scheduler::releaseDelayed(Clock::TimePoint now)
{
    while (!delayed_.empty() && std::get<0>(*delayed_.begin()) <= now) {
        auto [when, index, generation] = *delayed_.begin();
        delayed_.erase(delayed_.begin());
        const auto& s = graph_.step(index);
        if (s.live && s.generation == generation && s.state == StepState::Held)
            graph_.setState(index, StepState::Runnable, now);
    }
}

void Scheduler::reportUnsupported(TypeId type, Clock::TimePoint now, std::vector<std::string>& out)
{
    auto& since = unsupportedSince_[type];
    if (!since) since = now;
    auto limit = config_.maxUnsupportedTime;
    if (now - *since < limit) return;
    std::vector<StepIndex> due;
    queue_.forEachOldest(type, [&](StepIndex index, Clock::TimePoint runnableSince) {
        if (now - runnableSince < limit) return false;
        due.push_back(index);
        return true;
    });
    for (StepIndex index : due) {
        out.push_back(graph_.step(index).drvPath);
        graph_.setState(index, StepState::Held, now);
    }
}

DispatchResult Scheduler::dispatch(std::vector<DispatchMachine>& machines)
{
    auto now = clock_.now();
    releaseDelayed(now);
    DispatchResult result;
    refreshSupport(machines);
    auto active = activeTypes(now, result.unsupported);
    // Shares are fixed for the round: usage changes only when steps finish.
    round_.shares.clear();
    std::function<double(JobsetId)> shareOf = [&](JobsetId j) {
        auto [i, inserted] = round_.shares.try_emplace(j, 0.0);
        if (inserted) i->second = fairShare_.shareUsed(j, now);
        return i->second;
    };
    // The machines with a free slot: usually few, since a round follows a step's end. A type
    // takes part only while one of them can run it, and its head is looked up only then.
    auto& open = round_.open;
    open.clear();
    for (size_t i = 0; i < machines.size(); ++i)
        if (hasFreeSlot(machines[i], now)) open.push_back(i);
    auto& heads = round_.heads;
    heads.assign(graph_.typeCount(), std::nullopt);
    auto& known = round_.known;
    known.assign(graph_.typeCount(), 0);
    while (!open.empty()) {
        std::optional<RunQueue::Candidate> pick;
        for (TypeId t : active) {
            const auto& can = canTake_[t];
            if (!std::any_of(open.begin(), open.end(), [&](size_t i) { return can[i] != 0; })) continue;
            if (known[t] == 0) heads[t] = queue_.best(t, shareOf);
            known[t] = 1;
            if (heads[t] && (!pick || heads[t]->before(*pick))) pick = heads[t];
        }
        if (!pick) break;
        size_t m = assign(*pick, machines, now, result);
        if (!hasFreeSlot(machines[m], now)) open.erase(std::find(open.begin(), open.end(), m));
        known[pick->type] = 0;
    }
    return result;
}

std::vector<TypeId> Scheduler::activeTypes(Clock::TimePoint now, std::vector<std::string>& unsupported)
{
    size_t typeCount = graph_.typeCount();
    unsupportedSince_.resize(typeCount);
    std::vector<TypeId> active;
    for (TypeId t = 0; t < typeCount; ++t) {
        if (queue_.size(t) == 0) {
            unsupportedSince_[t].reset();
            continue;
        }
        if (support_[t].empty()) {
            reportUnsupported(t, now, unsupported);
            continue;
        }
        unsupportedSince_[t].reset();
        active.push_back(t);
    }
    return active;
}

size_t Scheduler::assign(const RunQueue::Candidate& pick, std::vector<DispatchMachine>& machines,
                         Clock::TimePoint now, DispatchResult& result)
{
    auto& candidates = round_.candidates;
    candidates.clear();
    for (size_t i : round_.open)
        if (canTake_[pick.type][i] != 0) candidates.push_back(i);
    size_t m = *chooseMachine(machines, candidates, now);
    ++machines[m].inUse;
    graph_.setState(pick.step, StepState::Running, now);
    // Type names are made once per type: building one joins its features.
    while (typeNames_.size() <= pick.type)
        typeNames_.push_back(graph_.type(static_cast<TypeId>(typeNames_.size())).name());
    result.assignments.push_back(
        {graph_.step(pick.step).drvPath, m, machines[m].name, typeNames_[pick.type]});
    return m;
}

void Scheduler::refreshSupport(const std::vector<DispatchMachine>& machines)
{
    // The machine list rarely changes between rounds: recompute only when it does. The
    // pointers tell (see DispatchMachine::machine); comparing names cost more than the round.
    bool unchanged = supportFor_.size() == machines.size();
    for (size_t i = 0; unchanged && i < machines.size(); ++i)
        unchanged =
            supportFor_[i].first == machines[i].machine && supportFor_[i].second == machines[i].maxJobs;
    if (!unchanged) {
        supportFor_.clear();
        for (const auto& m : machines) supportFor_.emplace_back(m.machine, m.maxJobs);
        support_.clear();
        canTake_.clear();
    }
    for (auto t = static_cast<TypeId>(support_.size()); t < graph_.typeCount(); ++t) {
        auto& list = support_.emplace_back();
        auto& can = canTake_.emplace_back(machines.size(), 0);
        for (size_t i = 0; i < machines.size(); ++i)
            if (canRun(machines[i], graph_.type(t))) {
                list.push_back(i);
                can[i] = 1;
            }
    }
}

std::vector<TypeStatus> Scheduler::typeStatus() const
{
    std::vector<TypeStatus> out;
    auto now = clock_.now();
    for (TypeId t = 0; t < graph_.typeCount(); ++t)
        out.push_back({graph_.type(t).name(), queue_.size(t), queue_.waited(t, now)});
    return out;
}

} // namespace hydra::qr

#include "queue-runner/build_queue.hh"

#include "util/logging.hh"

#include <deque>
#include <unordered_set>

namespace hydra::qr {

HeldBuild::HeldBuild(const db::QueuedBuild& b)
    : timestamp(b.timestamp), jobsetId(b.jobsetId), globalPriority(b.globalPriority), priority(b.priority),
      maxSilent(b.maxSilent), timeout(b.timeout), schedulingShares(b.schedulingShares)
{}

db::QueuedBuild HeldBuild::record(BuildId id, const std::string& drvPath) const
{
    return {.id = id,
            .drvPath = drvPath,
            .jobsetId = jobsetId,
            .globalPriority = globalPriority,
            .priority = priority,
            .maxSilent = maxSilent,
            .timeout = timeout,
            .timestamp = timestamp,
            .schedulingShares = schedulingShares};
}

BuildQueue::BuildQueue(const Clock& clock, SchedulerConfig config) : state_(std::in_place, clock, config) {}

bool BuildQueue::containsBuild(BuildId id) const
{
    return state_.lock()->builds.contains(id);
}

bool BuildQueue::containsStep(const std::string& drvPath) const
{
    return state_.lock()->scheduler.graph().find(drvPath).has_value();
}

std::vector<BuildId> BuildQueue::buildIds() const
{
    auto s = state_.lock();
    std::vector<BuildId> ids;
    ids.reserve(s->builds.size());
    for (const auto& [id, b] : s->builds) ids.push_back(id);
    return ids;
}

size_t BuildQueue::buildCount() const
{
    return state_.lock()->builds.size();
}

void BuildQueue::seedHistory(const std::vector<db::RecentStep>& steps)
{
    std::vector<PastStep> past;
    past.reserve(steps.size());
    for (const auto& s : steps)
        past.push_back({.jobset = s.jobsetId,
                        .durationKey = s.topLevel ? jobDurationKey(s.project, s.jobset, s.job)
                                                  : std::string(DurationHistory::derivationName(s.drvPath)),
                        .succeeded = s.succeeded,
                        .startTime = s.startTime,
                        .stopTime = s.stopTime});
    state_.lock()->scheduler.seedHistory(past);
}

bool BuildQueue::addLocked(State& s, const db::QueuedBuild& build, Discovery& discovery)
{
    for (const auto& input : discovery.knownInputs)
        if (!s.scheduler.graph().find(input)) return false;
    BuildSpec spec{.id = build.id,
                   .jobset = build.jobsetId,
                   .globalPriority = build.globalPriority,
                   .localPriority = build.priority,
                   .jobName = jobDurationKey(build.project, build.jobset, build.job),
                   .topLevelDrv = build.drvPath};
    s.scheduler.setJobsetShares(build.jobsetId, static_cast<unsigned>(std::max(build.schedulingShares, 1)));
    s.scheduler.addBuild(spec, discovery.steps);
    s.builds.try_emplace(build.id, build);
    for (auto& [path, drv] : discovery.derivations)
        if (s.scheduler.graph().find(path)) s.derivations.try_emplace(path, std::move(drv));
    ++s.wakeups;
    return true;
}

bool BuildQueue::add(const db::QueuedBuild& build, Discovery&& discovery)
{
    if (!addLocked(*state_.lock(), build, discovery)) return false;
    wake_.notify_all();
    return true;
}

std::vector<size_t> BuildQueue::addAll(std::vector<std::pair<db::QueuedBuild, Discovery>>& builds)
{
    std::vector<size_t> refused;
    {
        auto s = state_.lock();
        for (size_t i = 0; i < builds.size(); ++i)
            if (!addLocked(*s, builds[i].first, builds[i].second)) refused.push_back(i);
    }
    wake_.notify_all();
    return refused;
}

void BuildQueue::forget(State& s, const std::vector<Orphan>& orphans)
{
    for (const auto& o : orphans) {
        s.derivations.erase(o.drvPath);
        s.tries.erase(o.drvPath);
    }
}

std::vector<std::string> BuildQueue::remove(BuildId id)
{
    auto s = state_.lock();
    auto orphans = s->scheduler.removeBuild(id);
    s->builds.erase(id);
    forget(*s, orphans);
    std::vector<std::string> running;
    for (const auto& o : orphans)
        if (o.wasRunning) running.push_back(o.drvPath);
    return running;
}

void BuildQueue::bump(BuildId id, int globalPriority)
{
    auto s = state_.lock();
    auto b = s->builds.find(id);
    if (b == s->builds.end() || b->second.globalPriority >= globalPriority) return;
    b->second.globalPriority = globalPriority;
    s->scheduler.bumpBuild(id, globalPriority);
}

void BuildQueue::setJobsetShares(int64_t jobset, unsigned shares)
{
    state_.lock()->scheduler.setJobsetShares(jobset, shares);
}

DispatchResult BuildQueue::dispatch(std::vector<DispatchMachine>& machines)
{
    auto s = state_.lock();
    s->wakeupsDispatched = s->wakeups;
    return s->scheduler.dispatch(machines);
}

std::optional<db::QueuedBuild> BuildQueue::buildFor(const State& s, StepIndex index)
{
    // The graph keeps no list of builds per step (too big at scale): walk up to a top-level.
    const auto& graph = s.scheduler.graph();
    std::deque<StepIndex> todo{index};
    std::unordered_set<StepIndex> seen{index};
    while (!todo.empty()) {
        const Step& step = graph.step(todo.front());
        todo.pop_front();
        for (BuildId id : step.topOf)
            if (auto b = s.builds.find(id); b != s.builds.end()) return b->second.record(id, step.drvPath);
        for (StepIndex up : step.rdeps)
            if (seen.insert(up).second) todo.push_back(up);
    }
    return std::nullopt;
}

std::optional<StepWork> BuildQueue::work(const std::string& drvPath)
{
    StepWork w;
    {
        auto s = state_.lock();
        auto index = s->scheduler.graph().find(drvPath);
        if (!index) return std::nullopt;
        auto build = buildFor(*s, *index);
        if (!build) return std::nullopt;
        w.build = std::move(*build);
        auto tries = s->tries.find(drvPath);
        w.tries = tries == s->tries.end() ? 0 : tries->second;
        if (auto drv = s->derivations.find(drvPath); drv != s->derivations.end()) {
            w.drv = drv->second;
            return w;
        }
    }
    // Read again, not kept since discovery: parsed derivations (their environments above all)
    // would be most of the queue's memory. The evaluator's GC roots keep the .drv files.
    try {
        w.drv = nix::readDerivation(drvPath);
    } catch (const std::exception& e) {
        log::event(log::Level::Error, {.build = w.build.id}, "cannot read {}: {}; trying again in a minute",
                   drvPath, e.what());
        requeue(drvPath, std::chrono::minutes(1));
        return std::nullopt;
    }
    return w;
}

EndedBuilds BuildQueue::collect(State& s, const std::vector<BuildId>& ok, const std::vector<BuildId>& bad,
                                const std::vector<Orphan>& orphans)
{
    EndedBuilds out;
    auto take = [&](BuildId id, std::vector<BuildId>& into) {
        if (s.builds.erase(id) != 0) into.push_back(id);
    };
    for (BuildId id : ok) take(id, out.succeeded);
    for (BuildId id : bad) take(id, out.failed);
    s.buildsDone += out.succeeded.size() + out.failed.size();
    for (const auto& o : orphans)
        if (o.wasRunning) out.orphanedRunning.push_back(o.drvPath);
    forget(s, orphans);
    return out;
}

FinishedBuilds BuildQueue::finishing(const std::string& drvPath, bool succeeded) const
{
    FinishedBuilds out;
    auto s = state_.lock();
    const auto& graph = s->scheduler.graph();
    // `ownStep`: the builds' top-level step is this one; else each build's is looked up.
    auto copy = [&](const std::vector<BuildId>& ids, std::vector<db::QueuedBuild>& into, bool ownStep) {
        for (BuildId id : ids) {
            auto b = s->builds.find(id);
            if (b == s->builds.end()) continue;
            if (ownStep) {
                into.push_back(b->second.record(id, drvPath));
            } else if (const Build* inGraph = graph.build(id)) {
                into.push_back(b->second.record(id, graph.step(inGraph->topLevel).drvPath));
            }
        }
    };
    if (succeeded) {
        if (auto index = graph.find(drvPath)) copy(graph.step(*index).topOf, out.succeeded, true);
    } else {
        auto r = graph.buildsFailedBy(drvPath);
        copy(r.failedBuilds, out.failed, true);
        copy(r.depFailedBuilds, out.failed, false);
    }
    return out;
}

EndedBuilds BuildQueue::succeeded(const std::string& drvPath, std::chrono::seconds duration)
{
    EndedBuilds out;
    {
        auto s = state_.lock();
        auto r = s->scheduler.stepSucceeded(drvPath, duration);
        out = collect(*s, r.finishedBuilds, {}, r.orphaned);
        forget(*s, {Orphan{drvPath}});
        ++s->stepsDone;
        ++s->wakeups;
    }
    wake_.notify_all();
    return out;
}

EndedBuilds BuildQueue::failed(const std::string& drvPath, std::chrono::seconds duration)
{
    EndedBuilds out;
    {
        auto s = state_.lock();
        auto r = s->scheduler.stepFailed(drvPath, duration);
        std::vector<BuildId> all = r.failedBuilds;
        all.insert(all.end(), r.depFailedBuilds.begin(), r.depFailedBuilds.end());
        out = collect(*s, {}, all, r.orphaned);
        forget(*s, {Orphan{drvPath}});
        ++s->stepsDone;
        ++s->wakeups;
    }
    wake_.notify_all();
    return out;
}

void BuildQueue::retry(const std::string& drvPath, Clock::Duration delay)
{
    {
        auto s = state_.lock();
        ++s->tries[drvPath];
        ++s->retries;
        s->scheduler.requeueStep(drvPath, delay);
        ++s->wakeups;
    }
    wake_.notify_all();
}

void BuildQueue::requeue(const std::string& drvPath, Clock::Duration delay)
{
    {
        auto s = state_.lock();
        s->scheduler.requeueStep(drvPath, delay);
        ++s->wakeups;
    }
    wake_.notify_all();
}

nlohmann::json BuildQueue::statusJson() const
{
    auto s = state_.lock();
    nlohmann::json types = nlohmann::json::object();
    for (const auto& t : s->scheduler.typeStatus())
        types[t.name] = {{"runnable", t.runnable},
                         {"waitTime", std::chrono::duration_cast<std::chrono::seconds>(t.waited).count()}};
    // The run queue holds only steps not handed to a machine: runnable and waiting are one.
    return {{"nrQueuedBuilds", s->builds.size()},
            {"nrUnfinishedSteps", s->scheduler.graph().stepCount()},
            {"nrRunnableSteps", s->scheduler.runnableCount()},
            {"nrStepsWaiting", s->scheduler.runnableCount()},
            {"nrBuildsDone", s->buildsDone},
            {"nrStepsDone", s->stepsDone},
            {"nrRetries", s->retries},
            {"machineTypes", types}};
}

bool BuildQueue::waitForWork(const std::stop_token& stop, std::chrono::milliseconds timeout)
{
    std::stop_callback onStop(stop, [this] { wake_.notify_all(); });
    auto s = state_.lock();
    // Compared with what the last dispatch saw, not with now: a build added while the
    // dispatcher was busy between its rounds must not wait for the timeout.
    s.waitFor(wake_, timeout,
              [&](const State& st) { return st.wakeups != st.wakeupsDispatched || stop.stop_requested(); });
    return s->wakeups != s->wakeupsDispatched && !stop.stop_requested();
}

void BuildQueue::notify()
{
    ++state_.lock()->wakeups;
    wake_.notify_all();
}

} // namespace hydra::qr

#include "queue-runner/step_graph.hh"

#include "util/error.hh"

#include <algorithm>
#include <queue>

namespace hydra::qr {

std::string StepType::name() const
{
    std::string n = system;
    char sep = ':';
    for (const auto& f : requiredFeatures) {
        n += sep;
        n += f;
        sep = ',';
    }
    return n;
}

namespace {

/// Orders the new steps of one addBuild leaves first; throws on a cycle among them.
std::vector<size_t> leavesFirst(const std::vector<StepSpec>& specs,
                                const std::unordered_map<std::string, size_t>& fresh)
{
    std::vector<size_t> pending(specs.size(), 0);
    std::vector<std::vector<size_t>> users(specs.size());
    std::vector<size_t> order;
    for (const auto& [drv, i] : fresh)
        for (const auto& input : specs[i].inputDrvs)
            if (auto j = fresh.find(input); j != fresh.end()) {
                ++pending[i];
                users[j->second].push_back(i);
            }
    for (const auto& [drv, i] : fresh)
        if (pending[i] == 0) order.push_back(i);
    for (size_t k = 0; k < order.size(); ++k)
        for (size_t user : users[order[k]])
            if (--pending[user] == 0) order.push_back(user);
    if (order.size() != fresh.size())
        for (const auto& [drv, i] : fresh)
            if (pending[i] != 0) throw Error("dependency cycle through derivation '{}'", drv);
    return order;
}

} // namespace

size_t StepGraph::addBuild(const BuildSpec& build, const std::vector<StepSpec>& steps, Clock::TimePoint now)
{
    if (builds_.contains(build.id)) return 0;
    std::unordered_map<std::string, size_t> fresh; // drv -> spec index, steps not yet in the graph
    for (size_t i = 0; i < steps.size(); ++i)
        if (!byDrv_.contains(steps[i].drvPath)) fresh.try_emplace(steps[i].drvPath, i);
    if (!byDrv_.contains(build.topLevelDrv) && !fresh.contains(build.topLevelDrv))
        throw Error("build {}: top-level derivation '{}' is not among its steps", build.id,
                    build.topLevelDrv);
    auto order = leavesFirst(steps, fresh);

    std::vector<StepIndex> created;
    created.reserve(order.size());
    for (size_t i : order) {
        const auto& spec = steps[i];
        StepIndex index = createStep(spec, build, spec.drvPath == build.topLevelDrv);
        for (const auto& input : spec.inputDrvs) {
            auto dep = byDrv_.find(input);
            if (dep == byDrv_.end() || dep->second == index) continue;
            auto& s = steps_[index];
            if (std::find(s.deps.begin(), s.deps.end(), dep->second) != s.deps.end()) continue;
            s.deps.push_back(dep->second);
            steps_[dep->second].rdeps.insert(index);
            s.height = std::max(s.height, steps_[dep->second].height + 1);
        }
        created.push_back(index);
    }

    StepIndex top = byDrv_.at(build.topLevelDrv);
    builds_.emplace(build.id, Build{.id = build.id,
                                    .jobset = build.jobset,
                                    .globalPriority = build.globalPriority,
                                    .localPriority = build.localPriority,
                                    .topLevel = top});
    steps_[top].topOf.push_back(build.id);
    propagate(top, build);
    // Steps given but not needed by the top-level step are dropped again.
    std::vector<Orphan> unneeded;
    for (auto i = created.rbegin(); i != created.rend(); ++i) release(*i, unneeded, nullptr);
    size_t added = 0;
    for (StepIndex index : created)
        if (steps_[index].live) {
            makeRunnableIfReady(index, now);
            ++added;
        }
    return added;
}

StepIndex StepGraph::createStep(const StepSpec& spec, const BuildSpec& build, bool topLevel)
{
    StepIndex index;
    if (!freeSlots_.empty()) {
        index = freeSlots_.back();
        freeSlots_.pop_back();
    } else {
        index = static_cast<StepIndex>(steps_.size());
        steps_.emplace_back();
    }
    auto& s = steps_[index];
    s.drvPath = spec.drvPath;
    s.type = internType(spec);
    s.state = StepState::Waiting;
    s.live = true;
    s.height = 0;
    s.duration = &durations_.entry(topLevel ? std::string_view(build.jobName)
                                            : DurationHistory::derivationName(spec.drvPath));
    s.expectedSeconds = durations_.expected(*s.duration).count();
    byDrv_.emplace(s.drvPath, index);
    return index;
}

TypeId StepGraph::internType(const StepSpec& spec)
{
    StepType t{spec.system, spec.requiredFeatures, spec.preferLocalBuild};
    auto [i, inserted] = typeIds_.try_emplace(t, static_cast<TypeId>(types_.size()));
    if (inserted) types_.push_back(std::move(t));
    return i->second;
}

bool StepGraph::wouldChange(const Step& s, const BuildSpec& build, int64_t criticalPath) const
{
    return s.globalPriority < build.globalPriority || s.localPriority < build.localPriority ||
           s.lowestBuildId > build.id || s.criticalPath < criticalPath ||
           !std::binary_search(s.jobsets.begin(), s.jobsets.end(), build.jobset);
}

void StepGraph::merge(StepIndex index, const BuildSpec& build, int64_t criticalPath)
{
    auto& s = steps_[index];
    bool queued = s.state == StepState::Runnable && observer_;
    if (queued) observer_->dequeue(index, s);
    s.globalPriority = std::max(s.globalPriority, build.globalPriority);
    s.localPriority = std::max(s.localPriority, build.localPriority);
    s.lowestBuildId = std::min(s.lowestBuildId, build.id);
    s.criticalPath = std::max(s.criticalPath, criticalPath);
    auto pos = std::lower_bound(s.jobsets.begin(), s.jobsets.end(), build.jobset);
    if (pos == s.jobsets.end() || *pos != build.jobset) s.jobsets.insert(pos, build.jobset);
    if (queued) observer_->enqueue(index, s);
}

void StepGraph::propagate(StepIndex top, const BuildSpec& build)
{
    // Highest first: every rdep of a step is higher, so it is final when popped.
    std::priority_queue<std::pair<uint32_t, StepIndex>> heap;
    std::unordered_map<StepIndex, int64_t> pending; // step -> critical path offered to it
    pending.emplace(top, steps_[top].expectedSeconds);
    heap.emplace(steps_[top].height, top);
    while (!heap.empty()) {
        StepIndex index = heap.top().second;
        heap.pop();
        auto offered = pending.find(index);
        int64_t cp = offered->second;
        pending.erase(offered);
        if (!wouldChange(steps_[index], build, cp)) continue;
        merge(index, build, cp);
        for (StepIndex dep : steps_[index].deps) {
            int64_t depCp = steps_[dep].expectedSeconds + steps_[index].criticalPath;
            if (!wouldChange(steps_[dep], build, depCp)) continue;
            auto [i, inserted] = pending.try_emplace(dep, depCp);
            if (inserted)
                heap.emplace(steps_[dep].height, dep);
            else
                i->second = std::max(i->second, depCp);
        }
    }
}

void StepGraph::makeRunnableIfReady(StepIndex index, Clock::TimePoint now)
{
    auto& s = steps_[index];
    if (s.state != StepState::Waiting || !s.deps.empty()) return;
    s.state = StepState::Runnable;
    s.runnableSince = now;
    if (observer_) observer_->enqueue(index, s);
}

void StepGraph::setState(StepIndex index, StepState state, Clock::TimePoint now)
{
    auto& s = steps_[index];
    if (s.state == state) return;
    if (s.state == StepState::Runnable && observer_) observer_->dequeue(index, s);
    s.state = state;
    if (state == StepState::Runnable) {
        s.runnableSince = now;
        if (observer_) observer_->enqueue(index, s);
    }
}

StepSuccess StepGraph::stepSucceeded(const std::string& drvPath, Clock::TimePoint now)
{
    auto found = find(drvPath);
    return found ? stepSucceeded(*found, now) : StepSuccess{};
}

StepSuccess StepGraph::stepSucceeded(StepIndex index, Clock::TimePoint now)
{
    StepSuccess result;
    result.known = true;
    for (BuildId b : steps_[index].topOf) {
        result.finishedBuilds.push_back(b);
        builds_.erase(b);
    }
    steps_[index].topOf.clear();
    for (StepIndex r : steps_[index].rdeps) {
        auto& deps = steps_[r].deps;
        deps.erase(std::remove(deps.begin(), deps.end(), index), deps.end());
        bool wasWaiting = steps_[r].state == StepState::Waiting;
        makeRunnableIfReady(r, now);
        if (wasWaiting && steps_[r].state == StepState::Runnable) result.newlyRunnable.push_back(r);
    }
    steps_[index].rdeps.clear();
    // Normally empty: a step runs only once its dependencies are built.
    auto deps = std::move(steps_[index].deps);
    steps_[index].deps.clear();
    for (StepIndex d : deps) steps_[d].rdeps.erase(index);
    destroy(index);
    for (StepIndex d : deps) release(d, result.orphaned, nullptr);
    std::sort(result.finishedBuilds.begin(), result.finishedBuilds.end());
    return result;
}

std::unordered_set<StepIndex> StepGraph::collectAbove(StepIndex failed, StepFailure& result) const
{
    // Everything above the failed step can never be built now.
    std::unordered_set<StepIndex> above{failed};
    std::vector<StepIndex> todo{failed};
    while (!todo.empty()) {
        StepIndex index = todo.back();
        todo.pop_back();
        for (BuildId b : steps_[index].topOf)
            (index == failed ? result.failedBuilds : result.depFailedBuilds).push_back(b);
        for (StepIndex r : steps_[index].rdeps)
            if (above.insert(r).second) todo.push_back(r);
    }
    return above;
}

StepFailure StepGraph::buildsFailedBy(const std::string& drvPath) const
{
    StepFailure result;
    auto found = find(drvPath);
    if (!found) return result;
    result.known = true;
    collectAbove(*found, result);
    std::sort(result.failedBuilds.begin(), result.failedBuilds.end());
    std::sort(result.depFailedBuilds.begin(), result.depFailedBuilds.end());
    return result;
}

StepFailure StepGraph::stepFailed(const std::string& drvPath)
{
    auto found = find(drvPath);
    return found ? stepFailed(*found) : StepFailure{};
}

StepFailure StepGraph::stepFailed(StepIndex index)
{
    StepFailure result;
    result.known = true;
    auto above = collectAbove(index, result);
    for (BuildId b : result.failedBuilds) detachBuild(b, result.orphaned, &above);
    for (BuildId b : result.depFailedBuilds) detachBuild(b, result.orphaned, &above);
    std::sort(result.failedBuilds.begin(), result.failedBuilds.end());
    std::sort(result.depFailedBuilds.begin(), result.depFailedBuilds.end());
    return result;
}

std::vector<Orphan> StepGraph::removeBuild(BuildId id)
{
    std::vector<Orphan> orphans;
    if (builds_.contains(id)) detachBuild(id, orphans, nullptr);
    return orphans;
}

bool StepGraph::bumpBuild(BuildId id, int globalPriority)
{
    auto i = builds_.find(id);
    if (i == builds_.end()) return false;
    auto& b = i->second;
    b.globalPriority = std::max(b.globalPriority, globalPriority);
    propagate(b.topLevel, BuildSpec{.id = b.id,
                                    .jobset = b.jobset,
                                    .globalPriority = b.globalPriority,
                                    .localPriority = b.localPriority});
    return true;
}

void StepGraph::detachBuild(BuildId id, std::vector<Orphan>& orphans,
                            const std::unordered_set<StepIndex>* quiet)
{
    auto i = builds_.find(id);
    StepIndex top = i->second.topLevel;
    builds_.erase(i);
    auto& topOf = steps_[top].topOf;
    topOf.erase(std::remove(topOf.begin(), topOf.end(), id), topOf.end());
    release(top, orphans, quiet);
}

void StepGraph::release(StepIndex index, std::vector<Orphan>& orphans,
                        const std::unordered_set<StepIndex>* quiet)
{
    std::vector<StepIndex> todo{index};
    while (!todo.empty()) {
        StepIndex i = todo.back();
        todo.pop_back();
        auto& s = steps_[i];
        if (!s.live || !s.topOf.empty() || !s.rdeps.empty()) continue;
        if (!quiet || !quiet->contains(i)) orphans.push_back({s.drvPath, s.state == StepState::Running});
        for (StepIndex d : s.deps) {
            steps_[d].rdeps.erase(i);
            todo.push_back(d);
        }
        destroy(i);
    }
}

void StepGraph::destroy(StepIndex index)
{
    auto& s = steps_[index];
    if (s.state == StepState::Runnable && observer_) observer_->dequeue(index, s);
    byDrv_.erase(std::string_view(s.drvPath));
    uint32_t generation = s.generation + 1;
    s = Step{};
    s.generation = generation;
    freeSlots_.push_back(index);
}

std::optional<StepIndex> StepGraph::find(const std::string& drvPath) const
{
    auto i = byDrv_.find(drvPath);
    if (i == byDrv_.end()) return std::nullopt;
    return i->second;
}

const Build* StepGraph::build(BuildId id) const
{
    auto i = builds_.find(id);
    return i == builds_.end() ? nullptr : &i->second;
}

} // namespace hydra::qr

#include "sim/sim_farm.hh"

#include "util/error.hh"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <malloc.h>
#include <queue>
#include <random>
#include <time.h>
#include <unordered_map>

namespace hydra::sim {

namespace {

/// This thread's CPU time: wall time would count the time other processes on the machine take
/// from it, which on a loaded 2-core machine doubles a section of a few microseconds.
struct ThreadCpu {
    using duration = std::chrono::nanoseconds;
    static duration now()
    {
        timespec ts{};
        ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
    }
    /// What one pair of readings costs by itself (a system call), subtracted from each section.
    static duration overhead()
    {
        static const duration measured = [] {
            constexpr int n = 20000;
            auto began = now();
            for (int i = 0; i < n; ++i) (void) now();
            return (now() - began) / n;
        }();
        return measured;
    }
};

/// Something that happens at a simulated time; `seq` keeps equal times in insertion order.
struct Event {
    enum class Kind { Evaluation, Bump, StepEnd, Tick };
    double at = 0;
    uint64_t seq = 0;
    Kind kind = Kind::Tick;
    size_t index = 0;   ///< evaluation, bump or step
    uint64_t token = 0; ///< StepEnd: which run of the step
    bool operator>(const Event& o) const { return std::tie(at, seq) > std::tie(o.at, o.seq); }
};

/// How one run of a step on a machine will end.
enum class Ending { Success, BrokenDerivation, MachineFailure };

struct Running {
    size_t machine = 0;
    double start = 0;
    uint64_t token = 0;
    Ending ending = Ending::Success;
    std::vector<qr::JobsetId> jobsets;
};

/// Calls `f` and adds the CPU time it took to `account`.
template <class F> auto timedInto(ThreadCpu::duration& account, F f)
{
    auto began = ThreadCpu::now();
    auto r = f();
    account += std::max(ThreadCpu::now() - began - ThreadCpu::overhead(), ThreadCpu::duration::zero());
    return r;
}

size_t heapBytes()
{
    return mallinfo2().uordblks;
}

/// One simulated run: the workload's events and the steps' ends through the real decisions.
class Simulation {
public:
    Simulation(const SimWorkload& w, const std::vector<SimMachine>& farm, qr::StepOrder order)
        : w_(w), farm_(farm), scheduler_(clock_, qr::SchedulerConfig{.order = order}),
          done_(w.steps.size(), 0), failed_(w.steps.size(), 0), tries_(w.steps.size(), 0),
          arrival_(w.steps.size(), -1), buildOpen_(w.builds.size() + 1, 0),
          buildAdded_(w.builds.size() + 1, 0)
    {
        qr::BackoffPolicy backoff;
        backoff.maxJitter = std::chrono::seconds(0); // deterministic: the policies are compared
        for (size_t i = 0; i < farm.size(); ++i) {
            states_.push_back(std::make_unique<qr::MachineState>(clock_, backoff));
            inUse_.push_back(0);
        }
        byDrv_.reserve(w.steps.size());
        for (size_t s = 0; s < w.steps.size(); ++s)
            byDrv_.emplace(w.steps[s].drvPath, static_cast<StepId>(s));
        latencies_.resize(w.jobsets.size() + 1);
        jobsetSeconds_.resize(w.jobsets.size() + 1, 0.0);
        result_.policy =
            order == qr::StepOrder::Classic ? "Hydra's classic order" : "critical path (default)";
    }

    SimResult run()
    {
        baseHeap_ = heapBytes();
        // The farm's history: what each job and derivation took before (with noise).
        for (const auto& s : w_.steps)
            scheduler_.setExpectedDuration(qr::DurationHistory::derivationName(s.drvPath),
                                           std::chrono::seconds(static_cast<int64_t>(s.expectedSeconds)));
        for (const auto& b : w_.builds)
            scheduler_.setExpectedDuration(
                b.job, std::chrono::seconds(static_cast<int64_t>(w_.steps[b.top].expectedSeconds)));
        for (const auto& j : w_.jobsets) scheduler_.setJobsetShares(j.id, j.shares);
        for (size_t e = 0; e < w_.evals.size(); ++e) push(w_.evals[e].at, Event::Kind::Evaluation, e);
        for (size_t b = 0; b < w_.bumps.size(); ++b) push(w_.bumps[b].at, Event::Kind::Bump, b);
        while (!events_.empty()) {
            double t = events_.top().at;
            advanceTo(t);
            while (!events_.empty() && events_.top().at <= t) {
                auto e = events_.top();
                events_.pop();
                handle(e);
            }
            dispatchRound();
        }
        if (scheduler_.graph().buildCount() != 0)
            throw Error("simulation stuck with {} builds queued", scheduler_.graph().buildCount());
        finish();
        return result_;
    }

private:
    void push(double at, Event::Kind kind, size_t index, uint64_t token = 0)
    {
        events_.push({.at = at, .seq = seq_++, .kind = kind, .index = index, .token = token});
    }

    void advanceTo(double t)
    {
        auto target = Clock::TimePoint{} +
                      std::chrono::duration_cast<Clock::Duration>(std::chrono::duration<double>(t));
        if (target > clock_.now()) clock_.advance(target - clock_.now());
        now_ = t;
    }

    void handle(const Event& e)
    {
        switch (e.kind) {
        case Event::Kind::Evaluation: return evaluation(w_.evals[e.index]);
        case Event::Kind::Bump: return bump(w_.bumps[e.index]);
        case Event::Kind::StepEnd: return stepEnd(static_cast<StepId>(e.index), e.token);
        case Event::Kind::Tick: return;
        }
    }

    void evaluation(const SimEval& eval)
    {
        for (qr::BuildId id : eval.cancels) {
            if (!buildOpen_[static_cast<size_t>(id)]) continue;
            buildOpen_[static_cast<size_t>(id)] = 0;
            ++result_.buildsCancelled;
            auto orphans = timedInto(schedulerTime_, [&] { return scheduler_.removeBuild(id); });
            stopOrphans(orphans);
        }
        auto began = ThreadCpu::now();
        size_t added = 0;
        for (size_t b : eval.builds) added += addBuild(w_.builds[b]);
        addTime_ += ThreadCpu::now() - began;
        stepsAdded_ += added;
        // Memory is highest right after an evaluation's builds came in.
        if (heapBytes() > baseHeap_ && scheduler_.graph().stepCount() > result_.peakQueuedSteps) {
            result_.peakQueuedSteps = scheduler_.graph().stepCount();
            result_.bytesPerQueuedStep =
                static_cast<double>(heapBytes() - baseHeap_) / static_cast<double>(result_.peakQueuedSteps);
        }
    }

    /// Queues one build with its steps not built yet, as the queue monitor's discovery finds
    /// them: the walk stops at steps built or already queued. Returns the steps added.
    size_t addBuild(const SimBuild& b)
    {
        std::vector<qr::StepSpec> specs;
        std::vector<StepId> stack{b.top};
        std::vector<StepId> seen;
        bool brokenInput = false;
        while (!stack.empty()) {
            StepId s = stack.back();
            stack.pop_back();
            if (done_[s] || std::find(seen.begin(), seen.end(), s) != seen.end()) continue;
            if (failed_[s]) brokenInput = true; // FailedPaths: a cached failure
            seen.push_back(s);
            if (scheduler_.graph().find(w_.steps[s].drvPath)) continue;
            const auto& step = w_.steps[s];
            qr::StepSpec spec{.drvPath = step.drvPath, .system = step.system};
            if (step.bigParallel) spec.requiredFeatures.insert("big-parallel");
            if (step.kvm) spec.requiredFeatures.insert("kvm");
            for (StepId d : step.deps) {
                spec.inputDrvs.push_back(w_.steps[d].drvPath);
                stack.push_back(d);
            }
            if (arrival_[s] < 0) arrival_[s] = now_;
            specs.push_back(std::move(spec));
        }
        auto id = static_cast<size_t>(b.id);
        buildAdded_[id] = now_;
        if (brokenInput || done_[b.top]) {
            finishBuild(b.id, !brokenInput);
            return 0;
        }
        buildOpen_[id] = 1;
        std::reverse(specs.begin(), specs.end());
        return scheduler_.addBuild(
            {.id = b.id, .jobset = b.jobset, .jobName = b.job, .topLevelDrv = w_.steps[b.top].drvPath},
            specs);
    }

    void bump(const SimBump& bump)
    {
        for (qr::BuildId id : bump.builds)
            if (buildOpen_[static_cast<size_t>(id)])
                timedInto(schedulerTime_, [&] { return scheduler_.bumpBuild(id, bump.globalPriority); });
    }

    void dispatchRound()
    {
        // Built once and updated in place: the machines themselves do not change.
        auto& ms = machines_;
        if (ms.empty())
            for (const auto& m : farm_)
                ms.push_back({.name = m.machine.storeUri,
                              // The farm outlives the simulation: a pointer that does not own.
                              .machine = std::shared_ptr<const nix::Machine>(std::shared_ptr<const void>(),
                                                                             &m.machine),
                              .maxJobs = m.machine.maxJobs,
                              .speedFactor = m.machine.speedFactor});
        for (size_t i = 0; i < farm_.size(); ++i) {
            auto f = states_[i]->failureInfo();
            bool off = f.disabledUntil > clock_.now();
            ms[i].inUse = inUse_[i];
            ms[i].disabledUntil = off ? std::optional(f.disabledUntil) : std::nullopt;
            ms[i].consecutiveFailures = f.consecutiveFailures;
        }
        auto result = timedInto(dispatchTime_, [&] { return scheduler_.dispatch(ms); });
        for (const auto& drv : result.unsupported) fail(byDrv_.at(drv), 0);
        for (const auto& a : result.assignments) start(byDrv_.at(a.drvPath), a.machine);
    }

    void start(StepId s, size_t m)
    {
        const auto& step = w_.steps[s];
        const auto& machine = farm_[m];
        ++inUse_[m];
        ++result_.stepsDispatched;
        Running r{.machine = m, .start = now_, .token = ++tokens_};
        r.jobsets = scheduler_.graph().step(*scheduler_.graph().find(step.drvPath)).jobsets;
        double seconds = step.seconds / machine.machine.speedFactor;
        if (now_ >= machine.failFrom && now_ < machine.failUntil) {
            r.ending = Ending::MachineFailure;
            seconds = 30; // the connection or the build host dies early in the step
        } else if (step.failsForGood) {
            r.ending = Ending::BrokenDerivation;
            seconds *= 0.3;
        }
        push(now_ + seconds, Event::Kind::StepEnd, s, r.token);
        running_[s] = std::move(r);
    }

    void stepEnd(StepId s, uint64_t token)
    {
        auto it = running_.find(s);
        if (it == running_.end() || it->second.token != token) return; // stopped meanwhile
        Running r = std::move(it->second);
        running_.erase(it);
        --inUse_[r.machine];
        double seconds = now_ - r.start;
        busySeconds_ += seconds;
        for (auto j : r.jobsets) jobsetSeconds_[static_cast<size_t>(j)] += seconds / double(r.jobsets.size());
        auto decision = qr::decideStepEnd({.outputsValid = r.ending == Ending::Success,
                                           .transient = r.ending == Ending::MachineFailure,
                                           .tries = tries_[s]},
                                          retry_);
        auto& state = *states_[r.machine];
        if (decision.machine == qr::StepDecision::Health::Sound) state.recordSuccess();
        if (decision.machine == qr::StepDecision::Health::Failing) {
            auto off = state.recordFailure("simulated machine failure");
            push(now_ + std::chrono::duration<double>(off).count(), Event::Kind::Tick, 0);
        }
        const auto& drv = w_.steps[s].drvPath;
        auto duration = std::chrono::seconds(static_cast<int64_t>(seconds));
        switch (decision.verdict) {
        case qr::StepVerdict::Succeeded: {
            auto done = timedInto(successTime_, [&] { return scheduler_.stepSucceeded(drv, duration); });
            done_[s] = 1;
            executed_.push_back(s);
            for (auto id : done.finishedBuilds) finishBuild(id, true);
            stopOrphans(done.orphaned);
            return;
        }
        case qr::StepVerdict::Retry:
            ++tries_[s];
            ++result_.retries;
            timedInto(schedulerTime_, [&] { return scheduler_.requeueStep(drv, decision.delay); });
            push(now_ + std::chrono::duration<double>(decision.delay).count(), Event::Kind::Tick, 0);
            return;
        case qr::StepVerdict::Failed:
            if (r.ending == Ending::MachineFailure) ++result_.triesUsedUp;
            return fail(s, duration.count());
        case qr::StepVerdict::Stopped: return;
        }
    }

    void fail(StepId s, int64_t seconds)
    {
        auto failure = timedInto(failureTime_, [&] {
            return scheduler_.stepFailed(w_.steps[s].drvPath, std::chrono::seconds(seconds));
        });
        failed_[s] = 1;
        executed_.push_back(s);
        for (auto id : failure.failedBuilds) finishBuild(id, false);
        for (auto id : failure.depFailedBuilds) finishBuild(id, false);
        stopOrphans(failure.orphaned);
    }

    void stopOrphans(const std::vector<qr::Orphan>& orphans)
    {
        for (const auto& o : orphans) {
            if (!o.wasRunning) continue;
            auto it = running_.find(byDrv_.at(o.drvPath));
            if (it == running_.end()) continue;
            --inUse_[it->second.machine];
            busySeconds_ += now_ - it->second.start;
            running_.erase(it);
        }
    }

    void finishBuild(qr::BuildId id, bool ok)
    {
        auto i = static_cast<size_t>(id);
        buildOpen_[i] = 0;
        const auto& b = w_.builds[i - 1];
        latencies_[static_cast<size_t>(b.jobset)].push_back(now_ - buildAdded_[i]);
        (ok ? result_.buildsSucceeded : result_.buildsFailed)++;
        result_.makespan = std::max(result_.makespan, now_);
    }

    void finish();
    double maxSpeed(const SimStep& s) const;

    const SimWorkload& w_;
    const std::vector<SimMachine>& farm_;
    FakeClock clock_;
    qr::Scheduler scheduler_;
    qr::RetryPolicy retry_;
    std::vector<std::unique_ptr<qr::MachineState>> states_;
    std::vector<unsigned> inUse_;
    std::vector<qr::DispatchMachine> machines_;
    std::unordered_map<std::string, StepId> byDrv_;
    std::vector<char> done_;
    std::vector<char> failed_;
    std::vector<unsigned> tries_;
    std::vector<double> arrival_;
    std::vector<char> buildOpen_;
    std::vector<double> buildAdded_;
    std::vector<StepId> executed_;
    std::unordered_map<StepId, Running> running_;
    std::priority_queue<Event, std::vector<Event>, std::greater<>> events_;
    std::vector<std::vector<double>> latencies_;
    std::vector<double> jobsetSeconds_;
    double now_ = 0;
    double busySeconds_ = 0;
    uint64_t seq_ = 0;
    uint64_t tokens_ = 0;
    size_t baseHeap_ = 0;
    size_t stepsAdded_ = 0;
    ThreadCpu::duration schedulerTime_{}; ///< cancellations, bumps and retries
    ThreadCpu::duration successTime_{};
    ThreadCpu::duration failureTime_{};
    ThreadCpu::duration dispatchTime_{};
    ThreadCpu::duration addTime_{};
    SimResult result_;
};

double Simulation::maxSpeed(const SimStep& s) const
{
    std::set<std::string> features;
    if (s.bigParallel) features.insert("big-parallel");
    if (s.kvm) features.insert("kvm");
    double best = 0;
    for (const auto& m : farm_)
        if (m.machine.supports(s.system, features)) best = std::max(best, m.machine.speedFactor);
    return best;
}

void Simulation::finish()
{
    // The critical path from each step's arrival, at the fastest machine able to build it.
    // Dependencies always precede their dependents in the workload's step list.
    std::sort(executed_.begin(), executed_.end());
    std::unordered_map<StepId, double> earliest;
    auto work = [&](StepId s) { return w_.steps[s].seconds * (failed_[s] ? 0.3 : 1.0); };
    for (StepId s : executed_) {
        double from = std::max(arrival_[s], 0.0);
        for (StepId d : w_.steps[s].deps)
            if (auto it = earliest.find(d); it != earliest.end()) from = std::max(from, it->second);
        double speed = maxSpeed(w_.steps[s]);
        earliest[s] = from + work(s) / speed;
        result_.criticalPathBound = std::max(result_.criticalPathBound, earliest[s]);
    }
    // Work ÷ capacity, for each system and for each feature within it. The tighter form also
    // counts when work can start at the earliest: the steps of a class that cannot start before
    // t (their dependencies' critical path) need at least their work ÷ capacity after t.
    std::map<std::pair<std::string, std::string>, std::vector<std::pair<double, double>>> workOf;
    for (StepId s : executed_) {
        const auto& step = w_.steps[s];
        std::pair<double, double> item{earliest[s] - work(s) / maxSpeed(step), work(s)};
        workOf[{step.system, ""}].push_back(item);
        if (step.bigParallel) workOf[{step.system, "big-parallel"}].push_back(item);
        if (step.kvm) workOf[{step.system, "kvm"}].push_back(item);
    }
    for (auto& [cls, items] : workOf) {
        std::set<std::string> features;
        if (!cls.second.empty()) features.insert(cls.second);
        double capacity = 0;
        for (const auto& m : farm_)
            if (m.machine.supports(cls.first, features))
                capacity += m.machine.maxJobs * m.machine.speedFactor;
        std::sort(items.begin(), items.end(), std::greater<>());
        double after = 0;
        for (const auto& [start, seconds] : items) {
            after += seconds;
            result_.releaseBound = std::max(result_.releaseBound, start + after / capacity);
        }
        if (after / capacity > result_.capacityBound) {
            result_.capacityBound = after / capacity;
            result_.bottleneck = cls.second.empty() ? cls.first : cls.first + ":" + cls.second;
        }
    }
    result_.lowerBound = std::max(result_.criticalPathBound, result_.capacityBound);
    result_.releaseBound = std::max(result_.releaseBound, result_.lowerBound);
    double slots = 0;
    for (const auto& m : farm_) slots += m.machine.maxJobs;
    result_.utilisation = busySeconds_ / (slots * result_.makespan);
    auto micros = [](ThreadCpu::duration d) { return std::chrono::duration<double, std::micro>(d).count(); };
    auto perStep = [&](ThreadCpu::duration d) {
        return micros(d) / double(std::max<size_t>(result_.stepsDispatched, 1));
    };
    result_.dispatchCpuPerStep = perStep(dispatchTime_);
    result_.successCpuPerStep = perStep(successTime_);
    result_.failureCpuPerStep = perStep(failureTime_);
    result_.schedulerCpuPerStep = perStep(dispatchTime_ + successTime_ + failureTime_ + schedulerTime_);
    result_.addCpuPerStep = micros(addTime_) / double(std::max<size_t>(stepsAdded_, 1));
    for (const auto& j : w_.jobsets) {
        auto& l = latencies_[static_cast<size_t>(j.id)];
        std::sort(l.begin(), l.end());
        JobsetFigures f{.name = j.name,
                        .shares = j.shares,
                        .builds = l.size(),
                        .buildSeconds = jobsetSeconds_[static_cast<size_t>(j.id)]};
        if (!l.empty()) {
            double sum = 0;
            for (double x : l) sum += x;
            f.meanLatency = sum / double(l.size());
            f.p95Latency = l[std::min(l.size() - 1, l.size() * 95 / 100)];
        }
        result_.jobsets.push_back(f);
    }
}

} // namespace

std::vector<SimMachine> nixosOrgShapedFarm(size_t count, uint64_t seed)
{
    std::mt19937_64 rng(seed);
    auto pick = [&](std::initializer_list<unsigned> v) { return *(v.begin() + rng() % v.size()); };
    auto pickSpeed = [&](std::initializer_list<double> v) { return *(v.begin() + rng() % v.size()); };
    std::vector<SimMachine> farm;
    for (size_t i = 0; i < count; ++i) {
        SimMachine m;
        double f = double(i) / double(count);
        auto& n = m.machine;
        n.storeUri = fmt::format("ssh://builder{:03}", i);
        if (f < 0.6) {
            n.systems = {"x86_64-linux", "i686-linux"};
            n.maxJobs = pick({2, 4, 8});
            n.speedFactor = pickSpeed({1, 1.5, 2, 3});
            if (i % 4 == 0)
                n.supportedFeatures = {"big-parallel", "kvm", "nixos-test"};
            else
                n.supportedFeatures = {"kvm", "nixos-test"};
        } else if (f < 0.85) {
            n.systems = {"aarch64-linux"};
            n.maxJobs = pick({2, 4, 8});
            n.speedFactor = pickSpeed({1, 1.5});
            if (i % 5 == 0) n.supportedFeatures = {"big-parallel"};
        } else if (f < 0.94) {
            n.systems = {"x86_64-darwin"};
            n.maxJobs = pick({2, 4});
            n.speedFactor = 1;
            if (i % 3 == 0) n.supportedFeatures = {"big-parallel"};
        } else {
            n.systems = {"aarch64-darwin"};
            n.maxJobs = pick({2, 4});
            n.speedFactor = 2;
            if (i % 2 == 0) n.supportedFeatures = {"big-parallel"};
        }
        // One machine in twenty fails every step for a while, one to three hours in.
        if (i % 20 == 7) {
            m.failFrom = 3600.0 * double(1 + rng() % 2);
            m.failUntil = m.failFrom + 3600;
        }
        farm.push_back(std::move(m));
    }
    return farm;
}

SimResult simulate(const SimWorkload& workload, const std::vector<SimMachine>& farm, qr::StepOrder order)
{
    return Simulation(workload, farm, order).run();
}

} // namespace hydra::sim

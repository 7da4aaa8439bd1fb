// scheduler_bench: the pure scheduler at hydra.nixos.org's scale. A 200,000-step graph over 500
// jobsets, 4 systems and 50 machines; measures adding builds, dispatch rounds and completion
// events in steady state, and compares a dispatch round with the naive approach (sorting all
// runnable steps by the full order each round, as Hydra's queue runner does), measured in
// the same run. Plain main: prints one table.

#include "bench_support.hh"
#include "queue-runner/scheduler.hh"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <random>
#include <tuple>
#include <unordered_map>

using namespace hydra;
using namespace hydra::qr;
using namespace std::chrono_literals;
using Wall = std::chrono::steady_clock;

namespace {

constexpr int systemsCount = 4;
constexpr int jobsetCount = 500;
const std::array<std::string, systemsCount> systems{"x86_64-linux", "aarch64-linux", "i686-linux",
                                                    "x86_64-darwin"};

double micros(Wall::duration d)
{
    return std::chrono::duration<double, std::micro>(d).count();
}

std::string drvName(size_t n)
{
    return fmt::format("/nix/store/{:032}-step-{}.drv", n, n);
}

/// Builds of ten steps (six leaves, two middles, a top), a fifth also using a step of an
/// earlier build of the same system; 10% need big-parallel.
struct Workload {
    std::mt19937_64 rng{42};
    size_t next = 0;
    std::array<std::vector<std::string>, systemsCount> recent; // shareable steps per system
    std::vector<std::string> all;

    std::pair<BuildSpec, std::vector<StepSpec>> build(BuildId id)
    {
        int sys = static_cast<int>(rng() % systemsCount);
        std::set<std::string> features;
        if (rng() % 10 == 0) features.insert("big-parallel");
        auto make = [&](std::vector<std::string> inputs) {
            StepSpec s{drvName(next++), systems[static_cast<size_t>(sys)], features, false,
                       std::move(inputs)};
            all.push_back(s.drvPath);
            return s;
        };
        std::vector<StepSpec> steps;
        std::vector<std::string> leaves;
        for (int i = 0; i < 6; ++i) leaves.push_back(steps.emplace_back(make({})).drvPath);
        auto& shared = recent[static_cast<size_t>(sys)];
        std::vector<std::string> extra;
        if (!shared.empty() && rng() % 5 == 0) extra.push_back(shared[rng() % shared.size()]);
        auto m1 = steps.emplace_back(make({leaves[0], leaves[1], leaves[2]})).drvPath;
        auto m2 = steps.emplace_back(make({leaves[3], leaves[4], leaves[5]})).drvPath;
        std::vector<std::string> topInputs{m1, m2};
        topInputs.insert(topInputs.end(), extra.begin(), extra.end());
        auto top = steps.emplace_back(make(topInputs)).drvPath;
        if (shared.size() < 64)
            shared.push_back(m1);
        else
            shared[rng() % shared.size()] = m1;
        BuildSpec b{id,
                    static_cast<JobsetId>(rng() % jobsetCount),
                    rng() % 50 == 0 ? 10 : 0,
                    static_cast<int>(rng() % 4),
                    fmt::format("p:j{}:job{}", id % jobsetCount, id % 3000),
                    top};
        return {b, steps};
    }
};

std::vector<nix::Machine> makeMachines()
{
    std::vector<nix::Machine> out;
    for (int i = 0; i < 50; ++i) {
        nix::Machine m;
        m.storeUri = fmt::format("ssh://builder{:02}", i);
        m.systems = {systems[static_cast<size_t>(i % systemsCount)]};
        if (i % 7 == 0) m.systems.insert(systems[static_cast<size_t>((i + 1) % systemsCount)]);
        if (i % 5 == 0) m.supportedFeatures = {"big-parallel"};
        m.maxJobs = 8;
        m.speedFactor = 1 + i % 4;
        out.push_back(std::move(m));
    }
    return out;
}

/// The naive round: every runnable step's full key, then one sort of them all.
double naiveSortMicros(Scheduler& s, const std::vector<std::string>& drvs, FakeClock& clock)
{
    std::vector<StepIndex> runnable;
    for (const auto& d : drvs)
        if (auto i = s.graph().find(d); i && s.graph().step(*i).state == StepState::Runnable)
            runnable.push_back(*i);
    auto start = Wall::now();
    std::unordered_map<JobsetId, double> shares;
    using Key = std::tuple<int, double, int, int64_t, BuildId, StepIndex>;
    std::vector<Key> keys;
    keys.reserve(runnable.size());
    for (StepIndex i : runnable) {
        const auto& st = s.graph().step(i);
        double best = 1e300;
        for (JobsetId j : st.jobsets) {
            auto [it, inserted] = shares.try_emplace(j, 0.0);
            if (inserted) it->second = s.fairShare().shareUsed(j, clock.now());
            best = std::min(best, it->second);
        }
        keys.emplace_back(-st.globalPriority, best, -st.localPriority, -st.criticalPath, st.lowestBuildId, i);
    }
    std::sort(keys.begin(), keys.end());
    auto took = micros(Wall::now() - start);
    if (keys.empty()) fmt::print("(no runnable steps)\n");
    return took;
}

std::vector<DispatchMachine> machineStates(const std::vector<nix::Machine>& machines)
{
    std::vector<DispatchMachine> out;
    for (const auto& m : machines)
        out.push_back({m.storeUri, std::make_shared<const nix::Machine>(m), 0, m.maxJobs, m.speedFactor, {}});
    return out;
}

/// One run of the whole scenario with a graph of `targetSteps` steps.
void run(size_t targetSteps)
{
    fmt::print("== {} steps ==\n", targetSteps);
    FakeClock clock;
    Scheduler scheduler(clock, SchedulerConfig{.maxUnsupportedTime = 1h});
    Workload work;
    for (JobsetId j = 0; j < jobsetCount; ++j)
        scheduler.setJobsetShares(j, 50 + static_cast<unsigned>(j % 7) * 50);

    auto start = Wall::now();
    BuildId id = 0;
    while (work.next < targetSteps) {
        auto [b, steps] = work.build(++id);
        scheduler.addBuild(b, steps);
    }
    double addMicros = micros(Wall::now() - start) / static_cast<double>(id);
    fmt::print("graph: {} steps, {} builds, {} runnable; addBuild {:.1f} us per build\n",
               scheduler.graph().stepCount(), scheduler.graph().buildCount(), scheduler.runnableCount(),
               addMicros);

    auto machines = makeMachines();
    auto states = machineStates(machines);
    start = Wall::now();
    auto first = scheduler.dispatch(states);
    fmt::print("first dispatch: {} assignments in {:.0f} us\n", first.assignments.size(),
               micros(Wall::now() - start));

    // Steady state: a step finishes, its slot frees, one dispatch round refills it.
    std::deque<Assignment> running(first.assignments.begin(), first.assignments.end());
    std::mt19937_64 rng(7);
    Wall::duration completionTime{}, dispatchTime{};
    size_t events = 0, assigned = 0;
    const size_t rounds = targetSteps / 10; // a tenth of the queue: it stays large
    for (size_t r = 0; r < rounds && !running.empty(); ++r) {
        auto a = running.front();
        running.pop_front();
        clock.advance(std::chrono::seconds(1 + rng() % 5));
        auto t0 = Wall::now();
        scheduler.stepSucceeded(a.drvPath, std::chrono::seconds(10 + rng() % 600));
        auto t1 = Wall::now();
        --states[a.machine].inUse;
        auto d = scheduler.dispatch(states);
        auto t2 = Wall::now();
        completionTime += t1 - t0;
        dispatchTime += t2 - t1;
        ++events;
        assigned += d.assignments.size();
        running.insert(running.end(), d.assignments.begin(), d.assignments.end());
    }
    double perCompletion = micros(completionTime) / static_cast<double>(events);
    double perDispatch = micros(dispatchTime) / static_cast<double>(events);

    double naive = 0;
    constexpr int naiveRuns = 5;
    for (int i = 0; i < naiveRuns; ++i) naive += naiveSortMicros(scheduler, work.all, clock);
    naive /= naiveRuns;

    fmt::print("steady state: {} completions, {} assignments, {} runnable left\n", events, assigned,
               scheduler.runnableCount());
    fmt::print("per completion event (stepSucceeded): {:8.2f} us\n", perCompletion);
    fmt::print("per dispatch round (incremental):     {:8.2f} us\n", perDispatch);
    fmt::print("naive round (key + sort all runnable): {:8.0f} us\n", naive);
    fmt::print("ratio naive / incremental dispatch:   {:8.0f}x\n", naive / perDispatch);
    bench::summary("scheduler_bench", fmt::format("dispatch round at {} steps", work.all.size()),
                   fmt::format("{:.1f} µs", perDispatch), fmt::format("{:.0f} µs sorting all (Hydra)", naive),
                   fmt::format("{:.0f}× faster", naive / perDispatch));

    // Cancelling a thousand builds (e.g. an obsolete evaluation).
    start = Wall::now();
    size_t orphans = 0;
    for (BuildId b = 1; b <= 1000; ++b) orphans += scheduler.removeBuild(b).size();
    fmt::print("removeBuild: {:.1f} us per build ({} orphaned steps)\n", micros(Wall::now() - start) / 1000.0,
               orphans);
}

} // namespace

int main()
{
    // The same scenario at a tenth of the size: dispatch must not grow with the queue.
    run(20000);
    run(200000);
    return 0;
}

// Scheduler: the order of runnable steps (each criterion in turn decides), machine choice,
// unsupported steps, retries; all under a FakeClock.

#include "queue-runner/scheduler.hh"

#include "support/fake_drv.hh"
#include <fmt/format.h>

#include <gtest/gtest.h>

#include <map>

using namespace hydra;
using namespace hydra::qr;
using namespace std::chrono_literals;
using hydra::test::drv;

namespace {

StepSpec step(const std::string& name, const std::string& system = "x86_64-linux",
              std::set<std::string> features = {})
{
    return StepSpec{drv(name), system, std::move(features), false, {}};
}

BuildSpec build(BuildId id, const std::string& top, JobsetId jobset = 1, int globalPriority = 0,
                int localPriority = 0)
{
    return BuildSpec{id, jobset, globalPriority, localPriority, "p:j:" + top, drv(top)};
}

nix::Machine machine(const std::string& name, unsigned maxJobs, double speedFactor = 1,
                     std::set<std::string> systems = {"x86_64-linux"}, std::set<std::string> features = {},
                     std::set<std::string> mandatory = {})
{
    nix::Machine m;
    m.storeUri = name;
    m.systems = std::move(systems);
    m.maxJobs = maxJobs;
    m.speedFactor = speedFactor;
    m.supportedFeatures = std::move(features);
    m.mandatoryFeatures = std::move(mandatory);
    for (const auto& f : m.mandatoryFeatures) m.supportedFeatures.insert(f);
    return m;
}

struct SchedulerTest : testing::Test {
    FakeClock clock;
    std::vector<nix::Machine> machines;

    std::vector<DispatchMachine> states() const
    {
        std::vector<DispatchMachine> out;
        for (const auto& m : machines)
            out.push_back(
                {m.storeUri, std::make_shared<const nix::Machine>(m), 0, m.maxJobs, m.speedFactor, {}});
        return out;
    }

    /// The drv names dispatched to one free slot per round, one round per step, in order.
    static std::vector<std::string> order(Scheduler& s, size_t n)
    {
        auto one = std::make_shared<const nix::Machine>(machine("one", 1));
        std::vector<std::string> out;
        for (size_t i = 0; i < n; ++i) {
            std::vector<DispatchMachine> ms{{"one", one, 0, 1, 1, {}}};
            auto r = s.dispatch(ms);
            if (r.assignments.empty()) break;
            out.push_back(r.assignments.at(0).drvPath);
        }
        return out;
    }
};

} // namespace

TEST_F(SchedulerTest, GlobalPriorityBeatsFairShare)
{
    Scheduler s(clock);
    s.fairShare().addUsage(1, clock.now(), 100000s);
    s.addBuild(build(1, "busy-jobset-bumped", 1, 10), {step("busy-jobset-bumped")});
    s.addBuild(build(2, "idle-jobset", 2, 0), {step("idle-jobset")});
    EXPECT_EQ(order(s, 2), (std::vector<std::string>{drv("busy-jobset-bumped"), drv("idle-jobset")}));
}

TEST_F(SchedulerTest, FairShareBeatsLocalPriority)
{
    Scheduler s(clock);
    s.fairShare().addUsage(1, clock.now(), 1000s);
    s.addBuild(build(1, "busy-urgent", 1, 0, 100), {step("busy-urgent")});
    s.addBuild(build(2, "idle-plain", 2, 0, 0), {step("idle-plain")});
    EXPECT_EQ(order(s, 2), (std::vector<std::string>{drv("idle-plain"), drv("busy-urgent")}));
}

TEST_F(SchedulerTest, SchedulingSharesWeighTheUsage)
{
    Scheduler s(clock);
    s.fairShare().addUsage(1, clock.now(), 1000s);
    s.fairShare().addUsage(2, clock.now(), 200s);
    s.setJobsetShares(1, 1000); // 1000 s / 1000 shares = 1 < 200 s / 100 shares = 2
    s.addBuild(build(1, "big-share"), {step("big-share")});
    s.addBuild(build(2, "small-share", 2), {step("small-share")});
    EXPECT_EQ(order(s, 2), (std::vector<std::string>{drv("big-share"), drv("small-share")}));
}

TEST_F(SchedulerTest, FairShareUsageExpiresFromTheSlidingWindow)
{
    Scheduler s(clock, SchedulerConfig{.fairShareWindow = 24h});
    s.fairShare().addUsage(1, clock.now(), 1000s);
    clock.advance(12h);
    s.fairShare().addUsage(2, clock.now(), 500s);
    s.addBuild(build(1, "j1-a", 1), {step("j1-a")});
    s.addBuild(build(2, "j2-a", 2), {step("j2-a")});
    s.addBuild(build(3, "j1-b", 1), {step("j1-b")});
    s.addBuild(build(4, "j2-b", 2), {step("j2-b")});
    clock.advance(1h); // jobset 1 used 1000 s, jobset 2 500 s
    EXPECT_EQ(order(s, 1), std::vector<std::string>{drv("j2-a")});
    clock.advance(12h); // jobset 1's usage left the window
    EXPECT_EQ(order(s, 1), std::vector<std::string>{drv("j1-a")});
}

TEST_F(SchedulerTest, LocalPriorityBeatsCriticalPath)
{
    Scheduler s(clock);
    s.setExpectedDuration("p:j:long", 10000s);
    s.addBuild(build(1, "long", 1, 0, 0), {step("long")});
    s.addBuild(build(2, "urgent", 1, 0, 5), {step("urgent")});
    EXPECT_EQ(order(s, 2), (std::vector<std::string>{drv("urgent"), drv("long")}));
}

TEST_F(SchedulerTest, CriticalPathBeatsBuildId)
{
    Scheduler s(clock);
    s.setExpectedDuration("p:j:short", 10s);
    s.setExpectedDuration("p:j:long", 10000s);
    s.addBuild(build(1, "short"), {step("short")});
    s.addBuild(build(2, "long"), {step("long")});
    EXPECT_EQ(order(s, 2), (std::vector<std::string>{drv("long"), drv("short")}));
}

TEST_F(SchedulerTest, TheClassicOrderIgnoresTheCriticalPath)
{
    // Hydra's own order: after priorities and share, the lowest build id, however long the
    // other step's chain.
    Scheduler s(clock, SchedulerConfig{.order = StepOrder::Classic});
    s.setExpectedDuration("p:j:short", 10s);
    s.setExpectedDuration("p:j:long", 10000s);
    s.addBuild(build(1, "short"), {step("short")});
    s.addBuild(build(2, "long"), {step("long")});
    s.addBuild(build(3, "urgent", 1, 0, 5), {step("urgent")});
    EXPECT_EQ(order(s, 3), (std::vector<std::string>{drv("urgent"), drv("short"), drv("long")}));
}

TEST_F(SchedulerTest, LowestBuildIdDecidesTheRest)
{
    Scheduler s(clock);
    s.addBuild(build(9, "nine"), {step("nine")});
    s.addBuild(build(3, "three"), {step("three")});
    s.addBuild(build(5, "five"), {step("five")});
    EXPECT_EQ(order(s, 3), (std::vector<std::string>{drv("three"), drv("five"), drv("nine")}));
}

TEST_F(SchedulerTest, PastDurationsOfTheSameJobFeedTheCriticalPath)
{
    Scheduler s(clock);
    s.addBuild(build(1, "slow"), {step("slow")});
    auto first = order(s, 1);
    s.stepSucceeded(drv("slow"), 5000s);
    s.addBuild(build(2, "fast"), {step("fast")});
    s.addBuild(build(3, "slow"), {step("slow")}); // same job name, now known to be slow
    EXPECT_EQ(order(s, 2), (std::vector<std::string>{drv("slow"), drv("fast")}));
}

TEST_F(SchedulerTest, BumpReordersTheQueue)
{
    Scheduler s(clock);
    s.addBuild(build(1, "first"), {step("first")});
    StepSpec top = step("second");
    top.inputDrvs = {drv("second-dep")};
    s.addBuild(build(2, "second"), {top, step("second-dep")});
    EXPECT_TRUE(s.bumpBuild(2, 50));
    EXPECT_EQ(order(s, 2), (std::vector<std::string>{drv("second-dep"), drv("first")}));
}

TEST_F(SchedulerTest, FasterMachineTakesMoreButNoneExceedsMaxJobs)
{
    machines = {machine("slow", 4, 1), machine("fast", 4, 4)};
    Scheduler s(clock);
    for (BuildId i = 1; i <= 10; ++i)
        s.addBuild(build(i, fmt::format("s{}", i)), {step(fmt::format("s{}", i))});
    auto ms = states();
    auto r = s.dispatch(ms);
    ASSERT_EQ(r.assignments.size(), 8U); // all slots, no more
    std::map<std::string, int> per;
    for (const auto& a : r.assignments) ++per[a.machineName];
    EXPECT_EQ(per["fast"], 4);
    EXPECT_EQ(per["slow"], 4);
    EXPECT_EQ(ms[0].inUse, 4U);
    EXPECT_EQ(ms[1].inUse, 4U);
    // (inUse+1)/speed: fast gives 0.25, 0.5, 0.75 before slow's 1; the tie at 1 goes to the
    // machine with more free slots.
    for (size_t i = 0; i < 3; ++i) EXPECT_EQ(r.assignments[i].machineName, "fast");
    EXPECT_EQ(r.assignments[3].machineName, "slow");
    EXPECT_EQ(s.runnableCount(), 2U);
    EXPECT_TRUE(s.dispatch(ms).assignments.empty());
    ms[0].inUse = 3; // one slot freed
    r = s.dispatch(ms);
    ASSERT_EQ(r.assignments.size(), 1U);
    EXPECT_EQ(r.assignments[0].machineName, "slow");
}

TEST_F(SchedulerTest, LeastLoadedRelativeToSpeed)
{
    machines = {machine("a", 8, 2), machine("b", 8, 1)};
    Scheduler s(clock);
    s.addBuild(build(1, "x"), {step("x")});
    auto ms = states();
    ms[0].inUse = 3; // (3+1)/2 = 2
    ms[1].inUse = 0; // (0+1)/1 = 1
    auto r = s.dispatch(ms);
    ASSERT_EQ(r.assignments.size(), 1U);
    EXPECT_EQ(r.assignments[0].machineName, "b");
}

TEST_F(SchedulerTest, BetweenEquallyLoadedMachinesOneThatFailedLatelyComesLast)
{
    machines = {machine("a-failing", 1), machine("b-sound", 1)};
    Scheduler s(clock);
    s.addBuild(build(1, "x"), {step("x")});
    auto ms = states();
    ms[0].consecutiveFailures = 1; // its back-off is over, but it failed last time
    auto r = s.dispatch(ms);
    ASSERT_EQ(r.assignments.size(), 1U);
    EXPECT_EQ(r.assignments[0].machineName, "b-sound");
}

TEST_F(SchedulerTest, AMachineThatFailedLatelyGetsStepsOnlyWhenNoSoundMachineHasAFreeSlot)
{
    // An idle machine just back from its back-off would be the least loaded; a sound machine
    // with one slot left still goes first, and the failing one gets what is left over.
    machines = {machine("a-failing", 8), machine("b-sound", 4)};
    Scheduler s(clock);
    s.addBuild(build(1, "x"), {step("x")});
    s.addBuild(build(2, "y"), {step("y")});
    auto ms = states();
    ms[0].consecutiveFailures = 2;
    ms[1].inUse = 3;
    auto r = s.dispatch(ms);
    ASSERT_EQ(r.assignments.size(), 2U);
    EXPECT_EQ(r.assignments[0].machineName, "b-sound");
    EXPECT_EQ(r.assignments[1].machineName, "a-failing");
}

TEST_F(SchedulerTest, AMachineReloadedWithNewFeaturesIsSeenUnderTheSameNameAndMaxJobs)
{
    // The machines file gained `kvm` for "a": a new machine object, same name and max jobs.
    Scheduler s(clock);
    s.addBuild(build(1, "plain"), {step("plain")});
    auto before = std::make_shared<const nix::Machine>(machine("a", 2));
    std::vector<DispatchMachine> ms{{"a", before, 0, 2, 1, {}}};
    ASSERT_EQ(s.dispatch(ms).assignments.size(), 1U);
    s.addBuild(build(2, "needs-kvm"), {step("needs-kvm", "x86_64-linux", {"kvm"})});
    before.reset(); // what the old snapshot held goes; its memory may be reused at once
    auto after = std::make_shared<const nix::Machine>(machine("a", 2, 1, {"x86_64-linux"}, {"kvm"}));
    ms = {{"a", after, 1, 2, 1, {}}};
    auto r = s.dispatch(ms);
    ASSERT_EQ(r.assignments.size(), 1U);
    EXPECT_EQ(r.assignments[0].drvPath, drv("needs-kvm"));
    EXPECT_TRUE(r.unsupported.empty());
}

TEST_F(SchedulerTest, RequiredAndMandatoryFeaturesChooseTheMachine)
{
    machines = {machine("plain", 4), machine("kvm", 4, 1, {"x86_64-linux"}, {"kvm"}),
                machine("bench", 4, 1, {"x86_64-linux"}, {}, {"benchmark"})};
    Scheduler s(clock);
    s.addBuild(build(1, "needs-kvm"), {step("needs-kvm", "x86_64-linux", {"kvm"})});
    s.addBuild(build(2, "needs-bench"), {step("needs-bench", "x86_64-linux", {"benchmark"})});
    for (BuildId i = 3; i <= 6; ++i)
        s.addBuild(build(i, fmt::format("plain{}", i)), {step(fmt::format("plain{}", i))});
    auto ms = states();
    auto r = s.dispatch(ms);
    ASSERT_EQ(r.assignments.size(), 6U);
    for (const auto& a : r.assignments) {
        if (a.drvPath == drv("needs-kvm"))
            EXPECT_EQ(a.machineName, "kvm");
        else if (a.drvPath == drv("needs-bench"))
            EXPECT_EQ(a.machineName, "bench");
        else
            EXPECT_NE(a.machineName, "bench") << a.drvPath; // mandatory feature not required
    }
}

TEST_F(SchedulerTest, ABusyTypeDoesNotBlockAnother)
{
    machines = {machine("kvm", 1, 1, {"x86_64-linux"}, {"kvm"}), machine("plain", 1)};
    Scheduler s(clock);
    s.addBuild(build(1, "kvm-top", 1, 10), {step("kvm-top", "x86_64-linux", {"kvm"})});
    s.addBuild(build(2, "kvm-next", 1, 10), {step("kvm-next", "x86_64-linux", {"kvm"})});
    s.addBuild(build(3, "plain"), {step("plain")});
    auto ms = states();
    ms[0].inUse = 1;
    auto r = s.dispatch(ms);
    ASSERT_EQ(r.assignments.size(), 1U);
    EXPECT_EQ(r.assignments[0].drvPath, drv("plain"));
}

TEST_F(SchedulerTest, DisabledMachinesAreSkippedUntilTheirBackOffEnds)
{
    machines = {machine("flaky", 2, 10), machine("steady", 1)};
    Scheduler s(clock);
    s.addBuild(build(1, "a"), {step("a")});
    s.addBuild(build(2, "b"), {step("b")});
    auto ms = states();
    ms[0].disabledUntil = clock.now() + 5min;
    auto r = s.dispatch(ms);
    ASSERT_EQ(r.assignments.size(), 1U);
    EXPECT_EQ(r.assignments[0].machineName, "steady");
    EXPECT_TRUE(r.unsupported.empty()); // a disabled machine still supports the step
    clock.advance(5min);
    r = s.dispatch(ms);
    ASSERT_EQ(r.assignments.size(), 1U);
    EXPECT_EQ(r.assignments[0].machineName, "flaky");
}

TEST_F(SchedulerTest, UnsupportedStepsAreReportedAfterTheDelay)
{
    machines = {machine("x86", 4), machine("zero-slots", 0, 1, {"aarch64-linux"})};
    Scheduler s(clock, SchedulerConfig{.maxUnsupportedTime = 60s});
    s.addBuild(build(1, "arm"), {step("arm", "aarch64-linux")});
    s.addBuild(build(2, "x86"), {step("x86")});
    auto ms = states();
    auto r = s.dispatch(ms);
    EXPECT_EQ(r.assignments.size(), 1U);
    EXPECT_TRUE(r.unsupported.empty());
    clock.advance(59s);
    EXPECT_TRUE(s.dispatch(ms).unsupported.empty());
    clock.advance(1s);
    r = s.dispatch(ms);
    EXPECT_EQ(r.unsupported, std::vector<std::string>{drv("arm")});
    EXPECT_TRUE(s.dispatch(ms).unsupported.empty()); // reported once
    auto f = s.stepFailed(drv("arm"));
    EXPECT_EQ(f.failedBuilds, std::vector<BuildId>{1});
}

TEST_F(SchedulerTest, UnsupportedStepsAreReportedAtOnceWithZeroDelay)
{
    machines = {machine("x86", 4)};
    Scheduler s(clock, SchedulerConfig{.maxUnsupportedTime = 0s});
    s.addBuild(build(1, "kvm"), {step("kvm", "x86_64-linux", {"kvm"})});
    auto ms = states();
    EXPECT_EQ(s.dispatch(ms).unsupported, std::vector<std::string>{drv("kvm")});
}

TEST_F(SchedulerTest, RunningStepsAreNotDispatchedAgainAndRetriesWaitTheirDelay)
{
    machines = {machine("m", 4)};
    Scheduler s(clock);
    s.addBuild(build(1, "a"), {step("a")});
    auto ms = states();
    EXPECT_EQ(s.dispatch(ms).assignments.size(), 1U);
    EXPECT_TRUE(s.dispatch(ms).assignments.empty());
    EXPECT_TRUE(s.requeueStep(drv("a"), 60s));
    EXPECT_TRUE(s.dispatch(ms).assignments.empty());
    clock.advance(60s);
    auto r = s.dispatch(ms);
    ASSERT_EQ(r.assignments.size(), 1U);
    EXPECT_EQ(r.assignments[0].drvPath, drv("a"));
}

TEST_F(SchedulerTest, CancelledBuildsStepsAreNotDispatched)
{
    machines = {machine("m", 4)};
    Scheduler s(clock);
    s.addBuild(build(1, "a"), {step("a")});
    s.addBuild(build(2, "b"), {step("b")});
    EXPECT_EQ(s.removeBuild(1).size(), 1U);
    auto ms = states();
    auto r = s.dispatch(ms);
    ASSERT_EQ(r.assignments.size(), 1U);
    EXPECT_EQ(r.assignments[0].drvPath, drv("b"));
}

TEST_F(SchedulerTest, AChangedMachineListIsUsedAtTheNextRound)
{
    machines = {machine("x86", 1)};
    machines.reserve(4);
    Scheduler s(clock, SchedulerConfig{.maxUnsupportedTime = 1h});
    s.addBuild(build(1, "arm"), {step("arm", "aarch64-linux")});
    auto ms = states();
    EXPECT_TRUE(s.dispatch(ms).assignments.empty());
    machines.push_back(machine("arm", 1, 1, {"aarch64-linux"}));
    ms = states();
    auto r = s.dispatch(ms);
    ASSERT_EQ(r.assignments.size(), 1U);
    EXPECT_EQ(r.assignments[0].machineName, "arm");
}

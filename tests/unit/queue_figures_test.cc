// The queue figures of the status: per step type, how long its runnable steps have waited,
// under a FakeClock.

#include "queue-runner/scheduler.hh"

#include "support/fake_drv.hh"

#include <gtest/gtest.h>

using namespace hydra;
using namespace hydra::qr;
using namespace std::chrono_literals;
using hydra::test::drv;

namespace {

BuildSpec build(BuildId id, const std::string& top)
{
    return BuildSpec{id, 1, 0, 0, "p:j:" + top, drv(top)};
}

TypeStatus typeNamed(const Scheduler& s, const std::string& name)
{
    for (auto& t : s.typeStatus())
        if (t.name == name) return t;
    ADD_FAILURE() << "no type " << name;
    return {};
}

} // namespace

TEST(QueueFigures, WaitTimeSumsHowLongEachRunnableStepHasWaited)
{
    FakeClock clock;
    clock.advance(1h); // a steady clock far from its epoch
    Scheduler s(clock);
    s.addBuild(build(1, "a"), {StepSpec{drv("a"), "x86_64-linux", {}, false, {}}});
    clock.advance(10s);
    s.addBuild(build(2, "b"), {StepSpec{drv("b"), "x86_64-linux", {}, false, {}}});
    s.addBuild(build(3, "c"), {StepSpec{drv("c"), "aarch64-linux", {}, false, {}}});
    clock.advance(5s);
    auto x86 = typeNamed(s, "x86_64-linux");
    EXPECT_EQ(x86.runnable, 2U);
    EXPECT_EQ(x86.waited, 15s + 5s);
    EXPECT_EQ(typeNamed(s, "aarch64-linux").waited, 5s);

    // A step that leaves the queue no longer counts: the one waiting longest is built.
    s.stepSucceeded(drv("a"), 1s);
    x86 = typeNamed(s, "x86_64-linux");
    EXPECT_EQ(x86.runnable, 1U);
    EXPECT_EQ(x86.waited, 5s);
    s.stepSucceeded(drv("b"), 1s);
    EXPECT_EQ(typeNamed(s, "x86_64-linux").waited, 0s);
}

TEST(QueueFigures, ARunningStepIsNotWaiting)
{
    FakeClock clock;
    Scheduler s(clock);
    s.addBuild(build(1, "a"), {StepSpec{drv("a"), "x86_64-linux", {}, false, {}}});
    clock.advance(30s);
    nix::Machine m;
    m.storeUri = "localhost";
    m.systems = {"x86_64-linux"};
    m.maxJobs = 1;
    std::vector<DispatchMachine> ms{
        {.name = "localhost", .machine = std::make_shared<const nix::Machine>(m), .inUse = 0, .maxJobs = 1}};
    ASSERT_EQ(s.dispatch(ms).assignments.size(), 1U);
    EXPECT_EQ(typeNamed(s, "x86_64-linux").runnable, 0U);
    EXPECT_EQ(typeNamed(s, "x86_64-linux").waited, 0s);
    // Back in the queue it waits anew from now.
    s.requeueStep(drv("a"));
    clock.advance(2s);
    EXPECT_EQ(typeNamed(s, "x86_64-linux").waited, 2s);
}

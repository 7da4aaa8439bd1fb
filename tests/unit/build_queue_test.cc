// BuildQueue: the dispatcher's wait for work, under a FakeClock.

#include "queue-runner/build_queue.hh"

#include <gtest/gtest.h>

using namespace hydra;
using namespace hydra::qr;
using namespace std::chrono_literals;

namespace {

void queueOneStepBuild(BuildQueue& q, db::BuildId id, const std::string& name)
{
    std::string drv = "/nix/store/" + std::string(32, 'a') + "-" + name + ".drv";
    db::QueuedBuild b{.id = id, .drvPath = drv, .jobsetId = 1, .project = "p", .jobset = "j", .job = name};
    Discovery d;
    d.steps.push_back(StepSpec{drv, "x86_64-linux", {}, false, {}});
    d.derivations[drv].platform = "x86_64-linux";
    q.add(b, std::move(d));
}

} // namespace

TEST(BuildQueue, ABuildAddedBetweenTwoDispatchRoundsWakesTheDispatcher)
{
    FakeClock clock;
    BuildQueue q(clock, SchedulerConfig{});
    std::stop_source stop;
    std::vector<DispatchMachine> none;
    q.dispatch(none);
    // Added after the round, before the dispatcher goes to sleep: its wait must end at once
    // rather than when the timeout runs out.
    queueOneStepBuild(q, 1, "a");
    EXPECT_TRUE(q.waitForWork(stop.get_token(), 5s));
    // Once a round has seen it, there is nothing new to wake for.
    q.dispatch(none);
    EXPECT_FALSE(q.waitForWork(stop.get_token(), 10ms));
    q.notify();
    EXPECT_TRUE(q.waitForWork(stop.get_token(), 5s));
}

// A build whose discovery relied on a step the queue had (its dependency, not walked) must not
// be added once that step has left the queue: the step may have failed, and the build would
// then run as if its dependency had been built.
TEST(BuildQueue, ADiscoveryCountingOnAStepThatLeftTheQueueIsRefused)
{
    FakeClock clock;
    BuildQueue q(clock, SchedulerConfig{});
    std::string dep = "/nix/store/" + std::string(32, 'b') + "-dep.drv";
    std::string top = "/nix/store/" + std::string(32, 'c') + "-top.drv";
    db::QueuedBuild b{.id = 2, .drvPath = top, .jobsetId = 1, .project = "p", .jobset = "j", .job = "top"};
    auto discovery = [&] {
        Discovery d;
        d.steps.push_back(StepSpec{top, "x86_64-linux", {}, false, {dep}});
        d.derivations[top].platform = "x86_64-linux";
        d.knownInputs.insert(dep);
        return d;
    };
    EXPECT_FALSE(q.add(b, discovery()));
    EXPECT_FALSE(q.containsBuild(2));
    // With the step in the queue, the same discovery is added and linked to it.
    queueOneStepBuild(q, 1, "dep");
    std::string depOfOne = "/nix/store/" + std::string(32, 'a') + "-dep.drv";
    db::QueuedBuild b2{.id = 3, .drvPath = top, .jobsetId = 1, .project = "p", .jobset = "j", .job = "top"};
    Discovery d;
    d.steps.push_back(StepSpec{top, "x86_64-linux", {}, false, {depOfOne}});
    d.derivations[top].platform = "x86_64-linux";
    d.knownInputs.insert(depOfOne);
    EXPECT_TRUE(q.add(b2, std::move(d)));
    EXPECT_TRUE(q.containsBuild(3));
}

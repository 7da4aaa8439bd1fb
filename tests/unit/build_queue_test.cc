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

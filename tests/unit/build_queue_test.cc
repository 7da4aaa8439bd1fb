// BuildQueue: the dispatcher's wait for work, under a FakeClock.

#include "queue-runner/build_queue.hh"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>

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

// The queue keeps no derivation path per build (the graph has it as the build's top-level
// step), yet the records a step's end gives the database name each build's own derivation:
// those of dependent builds are their top-level steps', not the failed step's.
TEST(BuildQueue, RecordsOfAFailureNameEachBuildsOwnDerivation)
{
    FakeClock clock;
    BuildQueue q(clock, SchedulerConfig{});
    std::string lib = "/nix/store/" + std::string(32, 'a') + "-lib.drv"; // queueOneStepBuild's
    std::string app = "/nix/store/" + std::string(32, 'p') + "-app.drv";
    std::string tool = "/nix/store/" + std::string(32, 't') + "-tool.drv";
    queueOneStepBuild(q, 1, "lib");
    auto addOnLib = [&](db::BuildId id, const std::string& top, const std::string& job) {
        db::QueuedBuild b{.id = id, .drvPath = top, .jobsetId = 1, .project = "p", .jobset = "j", .job = job};
        Discovery d;
        d.steps.push_back(StepSpec{top, "x86_64-linux", {}, false, {lib}});
        d.knownInputs.insert(lib);
        EXPECT_TRUE(q.add(b, std::move(d)));
    };
    addOnLib(2, app, "app");
    addOnLib(3, tool, "tool");

    auto finishing = q.finishing(lib, false);
    std::map<db::BuildId, std::string> drvOf;
    for (const auto& b : finishing.failed) drvOf[b.id] = b.drvPath;
    EXPECT_EQ(drvOf, (std::map<db::BuildId, std::string>{{1, lib}, {2, app}, {3, tool}}));

    auto ended = q.failed(lib, 1s);
    std::sort(ended.failed.begin(), ended.failed.end());
    EXPECT_EQ(ended.failed, (std::vector<db::BuildId>{1, 2, 3}));
    EXPECT_TRUE(ended.succeeded.empty());
    EXPECT_EQ(q.buildCount(), 0U);
}

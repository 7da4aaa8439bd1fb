// StepGraph: steps shared between builds, runnable only after their dependencies, failure
// propagation to exactly the dependent builds, orphaned steps on cancel, priority propagation.

#include "queue-runner/step_graph.hh"

#include "util/error.hh"

#include <gtest/gtest.h>

#include <algorithm>

using namespace hydra;
using namespace hydra::qr;

namespace {

std::string drv(const std::string& name)
{
    return "/nix/store/" + std::string(32, 'a') + "-" + name + ".drv";
}

StepSpec step(const std::string& name, std::vector<std::string> inputs = {})
{
    StepSpec s{drv(name), "x86_64-linux", {}, false, {}};
    for (const auto& i : inputs) s.inputDrvs.push_back(drv(i));
    return s;
}

BuildSpec build(BuildId id, const std::string& top, JobsetId jobset = 1, int globalPriority = 0)
{
    return BuildSpec{id, jobset, globalPriority, 0, "p:j:" + top, drv(top)};
}

/// Records what the graph tells the run queue.
struct Recorder : StepObserver {
    std::set<StepIndex> queued;
    void enqueue(StepIndex i, const Step&) override { queued.insert(i); }
    void dequeue(StepIndex i, const Step&) override { queued.erase(i); }
};

struct StepGraphTest : testing::Test {
    DurationHistory durations{std::chrono::seconds(10)};
    StepGraph graph{durations};
    Recorder queue;
    Clock::TimePoint now{};
    StepGraphTest() { graph.setObserver(&queue); }

    std::vector<std::string> queuedDrvs() const
    {
        std::vector<std::string> out;
        for (auto i : queue.queued) out.push_back(graph.step(i).drvPath);
        std::sort(out.begin(), out.end());
        return out;
    }
    const Step& get(const std::string& name) const { return graph.step(*graph.find(drv(name))); }
};

std::vector<std::string> drvs(std::vector<std::string> names)
{
    for (auto& n : names) n = drv(n);
    std::sort(names.begin(), names.end());
    return names;
}

} // namespace

TEST_F(StepGraphTest, StepsSharedBetweenBuildsAreMergedByDrvPath)
{
    EXPECT_EQ(graph.addBuild(build(1, "top1", 7), {step("top1", {"common"}), step("common")}, now), 2U);
    EXPECT_EQ(graph.addBuild(build(2, "top2", 8), {step("top2", {"common"}), step("common")}, now), 1U);
    EXPECT_EQ(graph.stepCount(), 3U);
    EXPECT_EQ(get("common").rdeps.size(), 2U);
    EXPECT_EQ(get("common").jobsets, (std::vector<JobsetId>{7, 8}));
    EXPECT_EQ(get("common").lowestBuildId, 1);
    // Adding the same build again changes nothing.
    EXPECT_EQ(graph.addBuild(build(2, "top2", 8), {step("top2", {"common"})}, now), 0U);
    EXPECT_EQ(graph.buildCount(), 2U);
}

TEST_F(StepGraphTest, StepsTheTopLevelStepDoesNotNeedAreDropped)
{
    EXPECT_EQ(
        graph.addBuild(build(1, "top"), {step("top", {"dep"}), step("dep"), step("stray", {"dep"})}, now),
        2U);
    EXPECT_FALSE(graph.find(drv("stray")));
    EXPECT_EQ(queuedDrvs(), drvs({"dep"}));
}

TEST_F(StepGraphTest, StepIsRunnableOnlyAfterItsDependencies)
{
    graph.addBuild(build(1, "top"),
                   {step("top", {"mid", "lib"}), step("mid", {"leaf"}), step("leaf"), step("lib")}, now);
    EXPECT_EQ(queuedDrvs(), drvs({"leaf", "lib"}));

    auto r = graph.stepSucceeded(drv("leaf"), now);
    EXPECT_EQ(r.newlyRunnable, std::vector<StepIndex>{*graph.find(drv("mid"))});
    EXPECT_TRUE(r.finishedBuilds.empty());
    EXPECT_EQ(queuedDrvs(), drvs({"lib", "mid"}));

    EXPECT_TRUE(graph.stepSucceeded(drv("mid"), now).newlyRunnable.empty()); // lib still pending
    EXPECT_EQ(graph.stepSucceeded(drv("lib"), now).newlyRunnable,
              std::vector<StepIndex>{*graph.find(drv("top"))});
    r = graph.stepSucceeded(drv("top"), now);
    EXPECT_EQ(r.finishedBuilds, std::vector<BuildId>{1});
    EXPECT_EQ(graph.stepCount(), 0U);
    EXPECT_EQ(graph.buildCount(), 0U);
    EXPECT_FALSE(graph.stepSucceeded(drv("top"), now).known);
}

TEST_F(StepGraphTest, InputsThatAreNotStepsCountAsBuilt)
{
    graph.addBuild(build(1, "top"), {step("top", {"already-valid"})}, now);
    EXPECT_EQ(queuedDrvs(), drvs({"top"}));
}

TEST_F(StepGraphTest, FailureReturnsExactlyTheDependentBuilds)
{
    graph.addBuild(build(1, "a"), {step("a", {"x", "w"}), step("x"), step("w")}, now);
    graph.addBuild(build(2, "b"), {step("b", {"y"}), step("y", {"x"}), step("x")}, now);
    graph.addBuild(build(3, "c"), {step("c", {"z"}), step("z")}, now);
    graph.addBuild(build(4, "x"), {step("x")}, now);
    graph.setState(*graph.find(drv("w")), StepState::Running, now);

    auto r = graph.stepFailed(drv("x"));
    EXPECT_TRUE(r.known);
    EXPECT_EQ(r.failedBuilds, std::vector<BuildId>{4});
    EXPECT_EQ(r.depFailedBuilds, (std::vector<BuildId>{1, 2}));
    // Only w was needed by those builds and nothing else; it was running, so it must be stopped.
    ASSERT_EQ(r.orphaned.size(), 1U);
    EXPECT_EQ(r.orphaned[0].drvPath, drv("w"));
    EXPECT_TRUE(r.orphaned[0].wasRunning);
    EXPECT_EQ(graph.buildCount(), 1U);
    EXPECT_NE(graph.build(3), nullptr);
    EXPECT_EQ(graph.stepCount(), 2U); // c and z
    EXPECT_EQ(queuedDrvs(), drvs({"z"}));
}

TEST_F(StepGraphTest, CancelReturnsStepsNoBuildNeedsAnyMore)
{
    graph.addBuild(build(1, "a"), {step("a", {"shared", "own"}), step("shared"), step("own")}, now);
    graph.addBuild(build(2, "b"), {step("b", {"shared"}), step("shared")}, now);

    auto orphans = graph.removeBuild(1);
    std::vector<std::string> names;
    for (const auto& o : orphans) names.push_back(o.drvPath);
    std::sort(names.begin(), names.end());
    EXPECT_EQ(names, drvs({"a", "own"}));
    EXPECT_EQ(queuedDrvs(), drvs({"shared"}));

    orphans = graph.removeBuild(2);
    EXPECT_EQ(orphans.size(), 2U);
    EXPECT_EQ(graph.stepCount(), 0U);
    EXPECT_TRUE(queue.queued.empty());
    EXPECT_TRUE(graph.removeBuild(2).empty());
}

TEST_F(StepGraphTest, BumpRaisesThePriorityOfAllStepsOfTheBuild)
{
    graph.addBuild(build(1, "a"), {step("a", {"dep"}), step("dep", {"leaf"}), step("leaf")}, now);
    graph.addBuild(build(2, "b"), {step("b")}, now);
    EXPECT_EQ(get("leaf").globalPriority, 0);
    EXPECT_TRUE(graph.bumpBuild(1, 100));
    EXPECT_EQ(get("a").globalPriority, 100);
    EXPECT_EQ(get("dep").globalPriority, 100);
    EXPECT_EQ(get("leaf").globalPriority, 100);
    EXPECT_EQ(get("b").globalPriority, 0);
    EXPECT_TRUE(graph.bumpBuild(1, 5)); // never lowers
    EXPECT_EQ(get("leaf").globalPriority, 100);
    EXPECT_FALSE(graph.bumpBuild(99, 5));
}

TEST_F(StepGraphTest, CriticalPathIsTheLongestChainOfExpectedDurationsToATopLevelStep)
{
    durations.set("p:j:a", std::chrono::seconds(100));
    durations.set("mid", std::chrono::seconds(50));
    graph.addBuild(build(1, "a"), {step("a", {"mid", "leaf"}), step("mid", {"leaf"}), step("leaf")}, now);
    EXPECT_EQ(get("a").criticalPath, 100);
    EXPECT_EQ(get("mid").criticalPath, 150);
    EXPECT_EQ(get("leaf").criticalPath, 160); // 10 (default) + via mid, not via a directly
    // A second build on top of leaf with a longer chain lengthens leaf's path.
    durations.set("p:j:b", std::chrono::seconds(1000));
    graph.addBuild(build(2, "b"), {step("b", {"leaf"})}, now);
    EXPECT_EQ(get("leaf").criticalPath, 1010);
}

TEST_F(StepGraphTest, BadInputIsRejectedWithoutChangingTheGraph)
{
    EXPECT_THROW(graph.addBuild(build(1, "a"), {step("a", {"b"}), step("b", {"a"})}, now), Error);
    EXPECT_THROW(graph.addBuild(build(2, "missing"), {step("a")}, now), Error);
    EXPECT_EQ(graph.stepCount(), 0U);
    EXPECT_EQ(graph.buildCount(), 0U);
}

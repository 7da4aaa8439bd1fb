// StepRunner: what a step's end does to the records and the queue, in which order, under a
// FakeClock, with in-memory records and a builder that returns the outcome a test gives it.

#include "queue-runner/step_runner.hh"

#include "nix/build_log_path.hh"
#include "util/error.hh"

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <map>
#include <unistd.h>

using namespace hydra;
using namespace hydra::qr;
using namespace std::chrono_literals;

namespace {

std::string drvOf(const std::string& name)
{
    return "/nix/store/" + std::string(32, 'd') + "-" + name + ".drv";
}
std::string outOf(const std::string& name)
{
    return "/nix/store/" + std::string(32, 'f') + "-" + name;
}

/// What the runner wrote, one line per transaction, and a way to make one kind of write fail.
class MemoryRecords final : public StepRecords {
public:
    std::vector<std::string> log;
    std::string failOn; ///< "start", "succeeded", "failed", "ended": that write throws
    std::map<db::BuildId, int> steps;
    std::vector<db::SucceededBuild> succeededBuilds;
    std::optional<db::StepFailure> failure;
    std::vector<db::BuildId> failedBuilds;
    std::optional<db::StepFinish> lastEnd;

    int start(const db::NewStep& step, const std::vector<db::BuildId>& topLevelOf) override
    {
        check("start");
        std::string started;
        for (auto b : topLevelOf) started += " " + std::to_string(b);
        log.push_back(fmt::format("start {} build_started{}", step.build, started));
        return ++steps[step.build];
    }
    void stage(db::BuildId, int, db::StepBusy) override {}
    void succeeded(db::BuildId build, int stepNr, const db::StepFinish&,
                   const std::vector<db::SucceededBuild>& builds) override
    {
        check("succeeded");
        log.push_back(fmt::format("succeeded {}.{} builds {}", build, stepNr, builds.size()));
        succeededBuilds = builds;
    }
    void failed(db::BuildId build, int stepNr, const db::StepFinish&, const db::StepFailure& f,
                const std::vector<db::DependentBuild>& builds) override
    {
        check("failed");
        log.push_back(fmt::format("failed {}.{} builds {}", build, stepNr, builds.size()));
        failure = f;
        failedBuilds.clear();
        for (const auto& b : builds) failedBuilds.push_back(b.id);
    }
    void ended(db::BuildId build, int stepNr, const db::StepFinish& finish) override
    {
        check("ended");
        log.push_back(fmt::format("ended {}.{} {}", build, stepNr, db::buildStatusName(finish.status)));
        lastEnd = finish;
    }
    void abandon(db::BuildId build, int stepNr, int64_t) override
    {
        log.push_back(fmt::format("abandon {}.{}", build, stepNr));
    }

private:
    void check(const std::string& what) const
    {
        if (failOn == what) throw Error("the database went away during {}", what);
    }
};

/// Returns `outcome` for every step; remembers the jobs it was given.
class ScriptedBuild final : public StepBuild {
public:
    StepOutcome outcome;
    std::vector<StepJob> jobs;
    std::function<void()> meanwhile; ///< runs while the step builds (e.g. a cancel)
    StepOutcome build(const StepJob& job, const MachineSlot&, const ProgressCallback&,
                      const std::stop_token&) override
    {
        jobs.push_back(job);
        if (meanwhile) meanwhile();
        return outcome;
    }
};

StepOutcome succeeded(const std::string& name)
{
    StepOutcome o;
    o.status = db::BuildStatus::Success;
    o.outputs = {{"out", outOf(name)}};
    return o;
}

StepOutcome machineFailed()
{
    StepOutcome o;
    o.status = db::BuildStatus::Aborted;
    o.transient = true;
    o.errorMsg = "cannot connect to ‘ssh://builder’";
    return o;
}

struct StepRunnerTest : testing::Test {
    FakeClock clock;
    BuildQueue queue{clock, SchedulerConfig{}};
    MachineRegistry machines{localOnly(), clock};
    std::filesystem::path rootsDir =
        std::filesystem::temp_directory_path() / ("qr-step-runner-" + std::to_string(::getpid()));
    nix::GcRoots roots{rootsDir};
    MemoryRecords records;
    ScriptedBuild builder;
    std::vector<std::string> cancelled;
    StepRunnerOptions options{.logDir = rootsDir / "logs"};
    std::unique_ptr<StepRunner> runner;

    static MachineRegistryOptions localOnly()
    {
        MachineRegistryOptions o;
        o.localSystem = {"x86_64-linux", {}, 4, {}};
        o.backoff.maxJitter = 0s;
        return o;
    }
    void SetUp() override { makeRunner(); }
    void TearDown() override { std::filesystem::remove_all(rootsDir); }
    void makeRunner()
    {
        runner = std::make_unique<StepRunner>(queue, records, builder, roots, clock, options,
                                              [this](const auto& drvs) { cancelled = drvs; });
    }

    /// Queues build `id` of `name` needing the steps `inputs` (already queued by other builds).
    void queueBuild(db::BuildId id, const std::string& name, std::vector<std::string> inputs = {})
    {
        db::QueuedBuild b{
            .id = id, .drvPath = drvOf(name), .jobsetId = 1, .project = "p", .jobset = "j", .job = name};
        Discovery d;
        std::vector<std::string> inputDrvs;
        for (const auto& i : inputs) inputDrvs.push_back(drvOf(i));
        d.steps.push_back(StepSpec{drvOf(name), "x86_64-linux", {}, false, inputDrvs});
        d.derivations[drvOf(name)].platform = "x86_64-linux";
        d.derivations[drvOf(name)].outputs["out"].path = outOf(name);
        for (const auto& i : inputDrvs) d.knownInputs.insert(i);
        ASSERT_TRUE(queue.add(b, std::move(d)));
    }
    /// The drv paths one dispatch round hands out now.
    std::vector<std::string> dispatch()
    {
        std::vector<DispatchMachine> ms;
        for (const auto& v : machines.snapshot())
            ms.push_back({.name = v.name,
                          .machine = v.machine,
                          .inUse = v.slotsInUse,
                          .maxJobs = v.machine->maxJobs,
                          .disabledUntil = v.disabled ? std::optional(v.disabledUntil) : std::nullopt});
        std::vector<std::string> out;
        for (const auto& a : queue.dispatch(ms).assignments) out.push_back(a.drvPath);
        return out;
    }
    void runStep(const std::string& name, std::stop_token stop = {})
    {
        auto slot = machines.tryReserve("localhost");
        ASSERT_TRUE(slot);
        runner->run(drvOf(name), std::move(*slot), stop);
    }
    FailureInfo machine() { return machines.snapshot().at(0).state->failureInfo(); }
};

} // namespace

TEST_F(StepRunnerTest, ASuccessIsRecordedBeforeTheQueueLetsItsBuildsGo)
{
    queueBuild(1, "lib");
    queueBuild(2, "app", {"lib"});
    builder.outcome = succeeded("lib");
    ASSERT_EQ(dispatch(), std::vector<std::string>{drvOf("lib")});
    runStep("lib");
    // build_started only for the build whose own derivation this is, not for build 2 which
    // merely needs it.
    EXPECT_EQ(records.log, (std::vector<std::string>{"start 1 build_started 1", "succeeded 1.1 builds 1"}));
    EXPECT_EQ(records.succeededBuilds.at(0).outputs.at(0).path, outOf("lib"));
    EXPECT_FALSE(queue.containsBuild(1));
    EXPECT_TRUE(queue.containsBuild(2));
    EXPECT_EQ(dispatch(), std::vector<std::string>{drvOf("app")}); // its dependency is built
    EXPECT_EQ(roots.list().size(), 1U);
    EXPECT_EQ(builder.jobs.at(0).logPath, nix::buildLogPath(options.logDir, drvOf("lib")));
}

TEST_F(StepRunnerTest, ACommitThatFailsLeavesTheStepAndItsBuildQueuedWithoutUsingATry)
{
    queueBuild(1, "lib");
    builder.outcome = succeeded("lib");
    dispatch();
    records.failOn = "succeeded";
    runStep("lib");
    EXPECT_EQ(records.log, (std::vector<std::string>{"start 1 build_started 1", "abandon 1.1"}));
    // The queue agrees with the database: still queued, back after the retry interval.
    EXPECT_TRUE(queue.containsBuild(1));
    EXPECT_TRUE(dispatch().empty());
    clock.advance(options.retry.interval);
    EXPECT_EQ(dispatch(), std::vector<std::string>{drvOf("lib")});
    EXPECT_EQ(queue.work(drvOf("lib"))->tries, 0U);
    // Once the database is back, the same step records its success.
    records.failOn.clear();
    runStep("lib");
    EXPECT_EQ(records.log.back(), "succeeded 1.2 builds 1");
    EXPECT_FALSE(queue.containsBuild(1));
}

TEST_F(StepRunnerTest, AMachineFailureIsRetriedAfterTheIntervalAndBacksTheMachineOff)
{
    queueBuild(1, "lib");
    builder.outcome = machineFailed();
    dispatch();
    runStep("lib");
    EXPECT_EQ(records.log, (std::vector<std::string>{"start 1 build_started 1", "ended 1.1 aborted"}));
    EXPECT_EQ(records.lastEnd->errorMsg, "cannot connect to ‘ssh://builder’");
    EXPECT_EQ(queue.work(drvOf("lib"))->tries, 1U);
    EXPECT_EQ(machine().consecutiveFailures, 1U);
    EXPECT_TRUE(dispatch().empty()); // the step waits 60 s, the machine as long
    clock.advance(60s);
    EXPECT_EQ(dispatch(), std::vector<std::string>{drvOf("lib")});
    // A success clears the machine's record.
    builder.outcome = succeeded("lib");
    runStep("lib");
    EXPECT_EQ(machine().consecutiveFailures, 0U);
}

TEST_F(StepRunnerTest, TheLastTryFailsTheBuildAndEveryBuildNeedingIt)
{
    options.retry.maxTries = 1;
    makeRunner();
    queueBuild(1, "lib");
    queueBuild(2, "app", {"lib"});
    builder.outcome = machineFailed();
    dispatch();
    runStep("lib");
    EXPECT_EQ(records.log.back(), "failed 1.1 builds 2");
    EXPECT_EQ(records.failedBuilds, (std::vector<db::BuildId>{1, 2}));
    EXPECT_TRUE(records.failure->failedPaths.empty()); // a machine's fault is not cached
    EXPECT_FALSE(queue.containsBuild(1));
    EXPECT_FALSE(queue.containsBuild(2));
}

TEST_F(StepRunnerTest, AFailureOfTheDerivationIsCachedAndDoesNotBlameTheMachine)
{
    queueBuild(1, "broken");
    StepOutcome o;
    o.status = db::BuildStatus::Failed;
    o.canCache = true;
    o.errorMsg = "builder failed with exit code 3";
    builder.outcome = o;
    dispatch();
    runStep("broken");
    EXPECT_EQ(records.log.back(), "failed 1.1 builds 1");
    EXPECT_EQ(records.failure->failedPaths, std::vector<std::string>{outOf("broken")});
    EXPECT_EQ(records.failure->errorMsg, "builder failed with exit code 3");
    EXPECT_EQ(machine().consecutiveFailures, 0U);
}

TEST_F(StepRunnerTest, AStopAtShutdownKeepsTheStepQueuedAndAStopOfAnUnneededStepEndsItCancelled)
{
    queueBuild(1, "lib");
    builder.outcome = succeeded("lib"); // what an interrupted build reports is not trusted
    dispatch();
    std::stop_source stop;
    stop.request_stop();
    runStep("lib", stop.get_token());
    EXPECT_EQ(records.log.back(), "ended 1.1 aborted");
    EXPECT_EQ(records.lastEnd->errorMsg, "stopped: the queue runner is shutting down");
    EXPECT_EQ(dispatch(), std::vector<std::string>{drvOf("lib")});

    builder.meanwhile = [&] { queue.remove(1); }; // cancelled while it ran
    runStep("lib", stop.get_token());
    EXPECT_EQ(records.lastEnd->status, db::BuildStatus::Cancelled);
    EXPECT_EQ(records.lastEnd->errorMsg, "stopped: no build needs it any more");
}

TEST_F(StepRunnerTest, AStepNoMachineSupportsFailsItsBuildsAsUnsupported)
{
    queueBuild(1, "lib");
    queueBuild(2, "app", {"lib"});
    runner->failUnsupported(drvOf("lib"));
    EXPECT_EQ(records.log, std::vector<std::string>{"failed 1.0 builds 2"});
    EXPECT_EQ(records.failure->stepStatus, db::BuildStatus::Unsupported);
    EXPECT_NE(records.failure->errorMsg.find("x86_64-linux"), std::string::npos);
    EXPECT_FALSE(queue.containsBuild(2));
}

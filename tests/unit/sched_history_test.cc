// Seeding fair share and expected durations from the steps of the recent past: what a runner
// starts with after a restart, under a FakeClock.

#include "queue-runner/build_queue.hh"
#include "queue-runner/sched_history.hh"
#include "queue-runner/scheduler.hh"

#include "support/fake_drv.hh"

#include <gtest/gtest.h>

#include <vector>

using namespace hydra;
using namespace hydra::qr;
using namespace std::chrono_literals;
using hydra::test::drv;

namespace {

/// A step of `jobset` that ran from `start` to `stop` seconds before the clock's now.
PastStep ranAgo(const FakeClock& clock, JobsetId jobset, int64_t start, int64_t stop,
                const std::string& key = "p:j:x", bool succeeded = true)
{
    return {jobset, key, succeeded, clock.unixTime() - start, clock.unixTime() - stop};
}

nix::Machine oneSlot()
{
    nix::Machine one;
    one.storeUri = "one";
    one.systems = {"x86_64-linux"};
    one.maxJobs = 1;
    return one;
}

/// The drv paths dispatched to one free slot per round, in order.
template <typename Queue> std::vector<std::string> order(Queue& q, size_t n)
{
    auto one = std::make_shared<const nix::Machine>(oneSlot());
    std::vector<std::string> out;
    for (size_t i = 0; i < n; ++i) {
        std::vector<DispatchMachine> ms{{"one", one, 0, 1, 1, {}}};
        auto r = q.dispatch(ms);
        if (r.assignments.empty()) break;
        out.push_back(r.assignments.at(0).drvPath);
    }
    return out;
}

StepSpec step(const std::string& name)
{
    return StepSpec{drv(name), "x86_64-linux", {}, false, {}};
}

/// A queued build of job `job` in jobset `jobset` ("p:js<jobset>"), its step built from `dep`'s.
void queue(BuildQueue& q, db::BuildId id, const std::string& job, int jobset, const std::string& dep = "")
{
    db::QueuedBuild b{.id = id,
                      .drvPath = drv(job),
                      .jobsetId = jobset,
                      .project = "p",
                      .jobset = "js" + std::to_string(jobset),
                      .job = job};
    Discovery d;
    if (!dep.empty()) {
        d.steps.push_back(step(dep));
        d.derivations[drv(dep)].platform = "x86_64-linux";
    }
    d.steps.push_back(step(job));
    if (!dep.empty()) d.steps.back().inputDrvs.push_back(drv(dep));
    d.derivations[drv(job)].platform = "x86_64-linux";
    q.add(b, std::move(d));
}

db::RecentStep recent(const FakeClock& clock, int jobset, const std::string& job, const std::string& drvName,
                      bool topLevel, int64_t seconds, bool succeeded = true)
{
    return {.jobsetId = jobset,
            .project = "p",
            .jobset = "js" + std::to_string(jobset),
            .job = job,
            .drvPath = drv(drvName),
            .topLevel = topLevel,
            .succeeded = succeeded,
            .startTime = clock.unixTime() - 60 - seconds,
            .stopTime = clock.unixTime() - 60};
}

} // namespace

TEST(SeedFairShare, ARunTimeIsChargedAtItsStopAndExpiresOneWindowLater)
{
    FakeClock clock;
    FairShare share(24h);
    std::vector<PastStep> steps{ranAgo(clock, 1, 5 * 3600LL, 3 * 3600LL), // 2 h, stopped 3 h ago
                                ranAgo(clock, 1, 1000, 400)};             // 600 s, stopped 400 s ago
    seedFairShare(share, steps, clock.now(), clock.unixTime());
    EXPECT_EQ(share.usedSeconds(1, clock.now()), 7800);
    EXPECT_EQ(share.usedSeconds(2, clock.now()), 0);
    clock.advance(21h - 1s);
    EXPECT_EQ(share.usedSeconds(1, clock.now()), 7800);
    clock.advance(1s);
    EXPECT_EQ(share.usedSeconds(1, clock.now()), 600);
    clock.advance(3h);
    EXPECT_EQ(share.usedSeconds(1, clock.now()), 0);
}

TEST(SeedFairShare, StepsOutsideTheWindowAndSkewedClocksCountAsTheyCan)
{
    FakeClock clock;
    FairShare share(24h);
    std::vector<PastStep> steps{
        ranAgo(clock, 1, 26 * 3600LL, 25 * 3600LL), // stopped before the window: already expired
        ranAgo(clock, 2, 100, -50),                 // stops in the future: charged now, all 150 s
        ranAgo(clock, 3, 100, 200),                 // stopped before it started: nothing to charge
    };
    seedFairShare(share, steps, clock.now(), clock.unixTime());
    EXPECT_EQ(share.usedSeconds(1, clock.now()), 0);
    EXPECT_EQ(share.usedSeconds(2, clock.now()), 150);
    EXPECT_EQ(share.usedSeconds(3, clock.now()), 0);
    clock.advance(24h - 1s);
    EXPECT_EQ(share.usedSeconds(2, clock.now()), 150);
}

TEST(SeedDurations, SuccessfulRunTimesAreFoldedInStopOrder)
{
    FakeClock clock;
    DurationHistory history(60s);
    std::vector<PastStep> steps{
        ranAgo(clock, 1, 1000, 900, "p:j:a"),       // 100 s
        ranAgo(clock, 1, 800, 500, "p:j:a"),        // 300 s: (100 + 300) / 2
        ranAgo(clock, 1, 5000, 0, "p:j:a", false),  // failed: says nothing of a success
        ranAgo(clock, 1, 4000, 1000, "hello-2.12"), // 3000 s
    };
    seedDurations(history, steps);
    EXPECT_EQ(history.expected("p:j:a"), 200s);
    EXPECT_EQ(history.expected("hello-2.12"), 3000s);
    EXPECT_EQ(history.expected("p:j:never-built"), 60s);
}

TEST(SeedHistory, AfterARestartAJobsetThatUsedMuchTimeYieldsToOneThatUsedNone)
{
    FakeClock clock;
    BuildQueue q(clock, SchedulerConfig{});
    q.seedHistory({recent(clock, 1, "old", "old", true, 7200)});
    queue(q, 1, "busy", 1); // lower id, but its jobset built for two hours
    queue(q, 2, "idle", 2);
    EXPECT_EQ(order(q, 2), (std::vector<std::string>{drv("idle"), drv("busy")}));
}

TEST(SeedHistory, TheKeysAreTheJobNameForABuildsOwnStepAndTheDerivationNameOtherwise)
{
    FakeClock clock;
    BuildQueue q(clock, SchedulerConfig{});
    // All in one jobset, so fair share is equal; only the critical path tells them apart.
    q.seedHistory({recent(clock, 1, "long", "long", true, 5000),
                   recent(clock, 1, "other", "dep-heavy", false, 4000),
                   recent(clock, 1, "other", "short", false, 9000)}); // a dependency named "short"
    queue(q, 1, "short", 1);            // its own step's key is the job name: no history
    queue(q, 2, "app", 1, "dep-heavy"); // a dependency known to take 4000 s
    queue(q, 3, "long", 1);
    EXPECT_EQ(order(q, 3), (std::vector<std::string>{drv("long"), drv("dep-heavy"), drv("short")}));
}

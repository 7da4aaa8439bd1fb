// Dispatcher: slots, unsupported steps, machine back-off, cancellation and shutdown, under a
// FakeClock, with an executor that records the steps it is given and ends them on request.

#include "queue-runner/dispatcher.hh"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

using namespace hydra;
using namespace hydra::qr;
using namespace std::chrono_literals;

namespace {

std::string drvOf(const std::string& name)
{
    return "/nix/store/" + std::string(32, 'd') + "-" + name + ".drv";
}

void queueBuild(BuildQueue& q, db::BuildId id, const std::string& name,
                const std::string& system = "x86_64-linux")
{
    db::QueuedBuild b{
        .id = id, .drvPath = drvOf(name), .jobsetId = 1, .project = "p", .jobset = "j", .job = name};
    Discovery d;
    d.steps.push_back(StepSpec{drvOf(name), system, {}, false, {}});
    d.derivations[drvOf(name)].platform = system;
    ASSERT_TRUE(q.add(b, std::move(d)));
}

/// Waits (in real time, bounded) until `done` holds; the step threads are real.
template <class F> bool eventually(F done)
{
    for (int i = 0; i < 1000; ++i) {
        if (done()) return true;
        std::this_thread::sleep_for(10ms);
    }
    return done();
}

/// Records each step it runs and holds it until finish() or a stop; a finished step is
/// reported to the queue as built, as the StepRunner does after recording it.
class RecordingExecutor final : public StepExecutor {
public:
    explicit RecordingExecutor(BuildQueue& queue) : queue_(queue) {}

    void run(const std::string& drvPath, MachineSlot slot, const std::stop_token& stop) override
    {
        std::unique_lock lock(mutex_);
        started_.emplace_back(drvPath, slot.name());
        changed_.notify_all();
        changed_.wait(lock, stop, [&] { return finishing_.contains(drvPath); });
        if (!finishing_.contains(drvPath)) {
            stopped_.insert(drvPath);
            return;
        }
        lock.unlock();
        queue_.succeeded(drvPath, 1s);
    }
    void failUnsupported(const std::string& drvPath) override
    {
        std::lock_guard lock(mutex_);
        unsupported_.push_back(drvPath);
    }
    void finish(const std::string& drvPath)
    {
        std::lock_guard lock(mutex_);
        finishing_.insert(drvPath);
        changed_.notify_all();
    }
    std::vector<std::pair<std::string, std::string>> started() const
    {
        std::lock_guard lock(mutex_);
        return started_;
    }
    std::vector<std::string> unsupported() const
    {
        std::lock_guard lock(mutex_);
        return unsupported_;
    }
    bool wasStopped(const std::string& drvPath) const
    {
        std::lock_guard lock(mutex_);
        return stopped_.contains(drvPath);
    }

private:
    BuildQueue& queue_;
    mutable std::mutex mutex_;
    std::condition_variable_any changed_;
    std::vector<std::pair<std::string, std::string>> started_;
    std::vector<std::string> unsupported_;
    std::set<std::string> finishing_;
    std::set<std::string> stopped_;
};

/// A localhost of `slots` slots for x86_64-linux, without jitter in its back-off.
MachineRegistryOptions localhost(unsigned slots)
{
    MachineRegistryOptions o;
    o.localSystem = {"x86_64-linux", {}, slots, {}};
    o.backoff.maxJitter = 0s;
    return o;
}

struct DispatcherTest : testing::Test {
    FakeClock clock;
    BuildQueue queue{clock, SchedulerConfig{}};
    MachineRegistry machines{localhost(2), clock};
    RecordingExecutor executor{queue};
    std::optional<Dispatcher> dispatcher;

    void SetUp() override
    {
        dispatcher.emplace(queue, machines, clock);
        dispatcher->setExecutor(&executor);
    }
    void TearDown() override { dispatcher.reset(); } // stops what still runs
};

} // namespace

TEST_F(DispatcherTest, StepsFillTheFreeSlotsAndTheNextWaitsForOneToEnd)
{
    queueBuild(queue, 1, "one");
    queueBuild(queue, 2, "two");
    queueBuild(queue, 3, "three");
    dispatcher->runOnce();
    ASSERT_TRUE(eventually([&] { return executor.started().size() == 2; }));
    EXPECT_EQ(executor.started()[0].second, "localhost");
    EXPECT_EQ(dispatcher->runningCount(), 2U);
    dispatcher->runOnce(); // no free slot: nothing more starts
    EXPECT_EQ(executor.started().size(), 2U);

    // The two lowest build ids first, all else equal (their threads start in either order).
    std::set<std::string> running{executor.started()[0].first, executor.started()[1].first};
    EXPECT_EQ(running, (std::set<std::string>{drvOf("one"), drvOf("two")}));
    executor.finish(drvOf("one"));
    ASSERT_TRUE(eventually([&] { return dispatcher->runningCount() == 1; }));
    dispatcher->runOnce();
    ASSERT_TRUE(eventually([&] { return executor.started().size() == 3; }));
    EXPECT_EQ(executor.started()[2].first, drvOf("three"));
    EXPECT_FALSE(queue.containsBuild(1));
}

TEST_F(DispatcherTest, AStepNoMachineCanRunIsFailedAsUnsupported)
{
    queueBuild(queue, 1, "arm", "aarch64-linux");
    queueBuild(queue, 2, "x86");
    dispatcher->runOnce();
    EXPECT_EQ(executor.unsupported(), std::vector<std::string>{drvOf("arm")});
    ASSERT_TRUE(eventually([&] { return executor.started().size() == 1; }));
    EXPECT_EQ(executor.started()[0].first, drvOf("x86"));
}

TEST_F(DispatcherTest, AMachineBackingOffTakesNoStepUntilItsTimeComesAndTheLoopWakesForIt)
{
    machines.snapshot().at(0).state->recordFailure("connection refused"); // 60 s back-off
    queueBuild(queue, 1, "waits");
    dispatcher->runOnce();
    EXPECT_TRUE(executor.started().empty());
    EXPECT_TRUE(executor.unsupported().empty()); // it waits for its machine, it is not failed
    EXPECT_EQ(dispatcher->nextWait(), 2000ms);   // the regular look comes first
    clock.advance(59500ms);
    EXPECT_EQ(dispatcher->nextWait(), 500ms); // wakes when the machine comes back
    dispatcher->runOnce();
    EXPECT_TRUE(executor.started().empty());
    clock.advance(500ms);
    dispatcher->runOnce();
    ASSERT_TRUE(eventually([&] { return executor.started().size() == 1; }));
}

TEST_F(DispatcherTest, CancelStopsTheStepWhereItRunsAndFreesItsSlot)
{
    queueBuild(queue, 1, "unwanted");
    queueBuild(queue, 2, "wanted");
    dispatcher->runOnce();
    ASSERT_TRUE(eventually([&] { return executor.started().size() == 2; }));
    EXPECT_TRUE(dispatcher->statusJson().contains(drvOf("unwanted")));
    dispatcher->cancel({drvOf("unwanted")});
    ASSERT_TRUE(eventually([&] { return dispatcher->runningCount() == 1; }));
    EXPECT_TRUE(executor.wasStopped(drvOf("unwanted")));
    EXPECT_FALSE(executor.wasStopped(drvOf("wanted")));
    EXPECT_FALSE(dispatcher->statusJson().contains(drvOf("unwanted")));
    EXPECT_EQ(machines.snapshot().at(0).slotsInUse, 1U);
}

TEST_F(DispatcherTest, AStopEndsTheLoopAndEveryStepThreadBeforeRunReturns)
{
    queueBuild(queue, 1, "a");
    queueBuild(queue, 2, "b");
    std::stop_source stop;
    std::thread loop([&] { dispatcher->run(stop.get_token()); });
    ASSERT_TRUE(eventually([&] { return executor.started().size() == 2; }));
    stop.request_stop();
    queue.notify();
    loop.join();
    EXPECT_TRUE(executor.wasStopped(drvOf("a")));
    EXPECT_TRUE(executor.wasStopped(drvOf("b")));
    EXPECT_EQ(dispatcher->runningCount(), 0U);
    EXPECT_EQ(machines.snapshot().at(0).slotsInUse, 0U);
}

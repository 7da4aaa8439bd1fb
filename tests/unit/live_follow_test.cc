// The pure parts of live logs: the event ring that waiters read, a log tail read as it grows,
// and the follow loop's ending, with a step watch the test drives.

#include "server/connection_threads.hh"
#include "server/live_events.hh"
#include "server/log_follow.hh"
#include "server/log_tail.hh"

#include <atomic>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <latch>
#include <thread>
#include <unistd.h>

using namespace hydra::server;
using namespace std::chrono_literals;

namespace {

std::filesystem::path tempLog()
{
    auto dir = std::filesystem::temp_directory_path() /
               ("hydra-live-follow-" + std::to_string(::getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    return dir / "log";
}

void append(const std::filesystem::path& p, const std::string& text)
{
    std::ofstream(p, std::ios::app | std::ios::binary) << text;
}

TEST(LiveEvents, WaitersGetEveryEventAfterTheirNumberInOrder)
{
    LiveEvents ev(8);
    ev.publish("step_started", {"12", "1"});
    ev.publish("step_finished", {"12", "1", "/log"});
    auto got = ev.after(0, 0ms);
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0].channel, "step_started");
    EXPECT_EQ(got[0].id(0), 12);
    EXPECT_EQ(got[1].seq, 2u);
    EXPECT_TRUE(ev.after(2, 10ms).empty());
}

TEST(LiveEvents, AMalformedIdIsZero)
{
    LiveEvent e{.seq = 1, .channel = "step_started", .fields = {"12x", "-3", ""}};
    EXPECT_EQ(e.id(0), 0);
    EXPECT_EQ(e.id(1), 0);
    EXPECT_EQ(e.id(2), 0);
    EXPECT_EQ(e.id(7), 0);
}

TEST(LiveEvents, AWaiterThatFellBehindOrComesFromAnEarlierServerIsToldToResync)
{
    LiveEvents ev(2);
    for (int i = 0; i < 5; ++i) ev.publish("build_queued", {std::to_string(i)});
    auto behind = ev.after(1, 0ms);
    ASSERT_EQ(behind.size(), 3u);
    EXPECT_EQ(behind[0].channel, LiveEvents::resync);
    EXPECT_EQ(behind[1].seq, 4u);
    auto future = ev.after(100, 0ms);
    ASSERT_EQ(future.size(), 1u);
    EXPECT_EQ(future[0].channel, LiveEvents::resync);
    EXPECT_EQ(future[0].seq, 5u);
}

TEST(LiveEvents, StopWakesWaitersAtOnce)
{
    LiveEvents ev;
    std::atomic<bool> returned{false};
    std::jthread waiter([&] {
        EXPECT_TRUE(ev.after(0, 1h).empty());
        returned = true;
    });
    std::this_thread::sleep_for(20ms);
    ev.stop();
    waiter.join();
    EXPECT_TRUE(returned);
    EXPECT_TRUE(ev.stopped());
}

TEST(Utf8Prefix, NeverEndsInsideACharacter)
{
    EXPECT_EQ(utf8Prefix("abc"), 3u);
    EXPECT_EQ(utf8Prefix("a\xC3"), 1u);                // first byte of é
    EXPECT_EQ(utf8Prefix("a\xC3\xA9"), 3u);            // é complete
    EXPECT_EQ(utf8Prefix("a\xE2\x82"), 1u);            // two bytes of €
    EXPECT_EQ(utf8Prefix("a\xF0\x9F\x98\x80"), 5u);    // an emoji complete
    EXPECT_EQ(utf8Prefix("\x80\x80\x80\x80\x80"), 5u); // not UTF-8: kept as it is
}

TEST(LogTail, ReadsWhatIsAppendedAndResumesAtAnOffset)
{
    auto p = tempLog();
    LogTail tail(p, 0);
    EXPECT_EQ(tail.next(100, false), ""); // no file yet
    append(p, "one\ntw");
    EXPECT_EQ(tail.next(100, false), "one\ntw");
    append(p, "o\n\xC3");
    EXPECT_EQ(tail.next(100, false), "o\n"); // the half character waits for its end
    EXPECT_EQ(tail.offset(), 8u);
    append(p, "\xA9!");
    EXPECT_EQ(tail.next(100, false), "\xC3\xA9!");
    LogTail resumed(p, 4);
    EXPECT_EQ(resumed.next(100, true), "two\n\xC3\xA9!");
}

TEST(LogTail, ATruncatedLogStartsAgainFromZero)
{
    auto p = tempLog();
    append(p, "copying inputs...\n");
    LogTail tail(p, 0);
    EXPECT_EQ(tail.next(100, false), "copying inputs...\n");
    std::filesystem::resize_file(p, 0);
    append(p, "build\n");
    EXPECT_EQ(tail.next(100, false), "build\n");
    EXPECT_TRUE(tail.restarted());
    EXPECT_FALSE(tail.restarted());
    EXPECT_EQ(tail.offset(), 6u);
}

/// A step that ends after the test says so; counts the waits.
class ScriptedStep : public StepWatch {
public:
    void wait(std::chrono::milliseconds) override
    {
        ++waits;
        if (onWait) onWait(waits);
    }
    bool ended() override { return endNow; }
    bool endNow = false;
    int waits = 0;
    std::function<void(int)> onWait;
};

TEST(FollowLog, HandsOutTheLogUntilTheStepEndsThenTheRest)
{
    auto p = tempLog();
    append(p, "a\n");
    LogTail tail(p, 0);
    ScriptedStep step;
    step.onWait = [&](int n) {
        if (n == 1) append(p, "b\n");
        if (n == 2) {
            append(p, "last words");
            step.endNow = true;
        }
    };
    std::string got;
    auto end = followLog(tail, step,
                         {.text =
                              [&](std::string_view c, uint64_t) {
                                  got += c;
                                  return true;
                              },
                          .restart = {}},
                         {.poll = 1ms, .keepAlive = 1h});
    EXPECT_EQ(end, FollowEnd::StepEnded);
    EXPECT_EQ(got, "a\nb\nlast words");
}

TEST(FollowLog, StopsWhenTheReaderLeavesAndKeepsAQuietStreamAlive)
{
    auto p = tempLog();
    LogTail tail(p, 0);
    ScriptedStep step;
    int signs = 0;
    auto end = followLog(tail, step,
                         {.text =
                              [&](std::string_view c, uint64_t) {
                                  EXPECT_TRUE(c.empty());
                                  return ++signs < 3;
                              },
                          .restart = {}},
                         {.poll = 1ms, .keepAlive = 0ms});
    EXPECT_EQ(end, FollowEnd::ReaderLeft);
    EXPECT_EQ(signs, 3);
}

TEST(ConnectionThreads, LongTasksDoNotHoldBackNewOnes)
{
    ConnectionThreads pool(2, 10);
    std::latch release(1);
    std::atomic<int> quickDone{0};
    for (int i = 0; i < 5; ++i) pool.enqueue([&] { release.wait(); }); // five open streams
    for (int i = 0; i < 3; ++i) pool.enqueue([&] { ++quickDone; });
    for (int i = 0; i < 200 && quickDone < 3; ++i) std::this_thread::sleep_for(10ms);
    EXPECT_EQ(quickDone, 3);
    EXPECT_LE(pool.threads(), 10u);
    release.count_down();
    pool.shutdown();
}

TEST(ConnectionThreads, AtItsLimitTasksWaitForAFreeThread)
{
    ConnectionThreads pool(1, 2);
    std::latch release(1);
    std::atomic<int> done{0};
    for (int i = 0; i < 2; ++i)
        pool.enqueue([&] {
            release.wait();
            ++done;
        });
    pool.enqueue([&] { ++done; });
    std::this_thread::sleep_for(50ms);
    EXPECT_EQ(done, 0);
    EXPECT_EQ(pool.threads(), 2u);
    release.count_down();
    pool.shutdown();
    EXPECT_EQ(done, 3);
}

} // namespace

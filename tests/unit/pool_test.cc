// Pool<T> with a fake resource: the bound holds under contention, waiters are served in order,
// timeouts are reported clearly, broken/invalid resources are replaced, failing factories recover.

#include "util/error.hh"
#include "util/pool.hh"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

using namespace hydra;
using namespace std::chrono_literals;

namespace {

/// Counts how many fake resources are alive at once, and the most ever alive.
struct Census {
    std::atomic<int> alive{0};
    std::atomic<int> peak{0};
    std::atomic<int> created{0};
};

/// A stand-in for a connection: registers itself with the census while it exists.
struct Fake {
    explicit Fake(Census& c) : census(c), id(++c.created)
    {
        int now = ++census.alive;
        int seen = census.peak.load();
        while (now > seen && !census.peak.compare_exchange_weak(seen, now)) {
        }
    }
    ~Fake() { --census.alive; }
    Fake(const Fake&) = delete;
    Fake& operator=(const Fake&) = delete;

    Census& census;
    int id;
    bool valid = true;
};

Pool<Fake> makePool(Census& census, size_t max)
{
    return Pool<Fake>(
        max, [&census] { return std::make_unique<Fake>(census); }, [](Fake& f) { return f.valid; },
        "test resources");
}

/// Waits (bounded) until the pool has `n` callers in line; the pool reports this exactly.
void waitForWaiters(const Pool<Fake>& pool, size_t n)
{
    for (int i = 0; i < 10000 && pool.waiting() < n; ++i) std::this_thread::sleep_for(1ms);
    ASSERT_EQ(pool.waiting(), n);
}

} // namespace

TEST(Pool, NeverMoreThanMaxAliveUnderManyThreads)
{
    Census census;
    auto pool = makePool(census, 4);
    std::atomic<int> served{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 64; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 50; ++i) {
                auto h = pool.acquire(60s);
                if ((t + i) % 7 == 0) h.markBroken(); // churn: some get replaced
                std::this_thread::yield();
                ++served;
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(served.load(), 64 * 50);
    EXPECT_LE(census.peak.load(), 4);
    EXPECT_LE(pool.size(), 4u);
    EXPECT_EQ(census.alive.load(), static_cast<int>(pool.size()));
}

TEST(Pool, ReusesReturnedResources)
{
    Census census;
    auto pool = makePool(census, 3);
    int first = 0;
    {
        auto h = pool.acquire(1s);
        first = h->id;
    }
    EXPECT_EQ(pool.idle(), 1u);
    auto h = pool.acquire(1s);
    EXPECT_EQ(h->id, first);
    EXPECT_EQ(census.created.load(), 1);
}

TEST(Pool, WaitersAreServedInArrivalOrder)
{
    Census census;
    auto pool = makePool(census, 1);
    auto held = std::make_unique<Pool<Fake>::Handle>(pool.acquire(1s));

    std::vector<int> order;
    std::mutex orderMutex;
    std::vector<std::thread> threads;
    for (int i = 0; i < 8; ++i) {
        threads.emplace_back([&, i] {
            auto h = pool.acquire(60s);
            std::lock_guard lock(orderMutex);
            order.push_back(i);
        });
        waitForWaiters(pool, static_cast<size_t>(i) + 1);
    }
    held.reset();
    for (auto& t : threads) t.join();
    EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7}));
    EXPECT_EQ(census.created.load(), 1);
}

TEST(Pool, TimeoutSaysHowManyAndHowLong)
{
    Census census;
    auto pool = makePool(census, 2);
    auto a = pool.acquire(1s);
    auto b = pool.acquire(1s);
    try {
        pool.acquire(50ms);
        FAIL() << "acquire succeeded with every resource in use";
    } catch (const TimeoutError& e) {
        std::string msg = e.what();
        EXPECT_NE(msg.find("all 2 test resources are in use"), std::string::npos) << msg;
        EXPECT_NE(msg.find("after waiting 0."), std::string::npos) << msg;
    }
    EXPECT_EQ(pool.waiting(), 0u);
    EXPECT_EQ(census.alive.load(), 2);
}

TEST(Pool, TimedOutWaiterDoesNotBlockThoseBehindIt)
{
    Census census;
    auto pool = makePool(census, 1);
    auto held = std::make_unique<Pool<Fake>::Handle>(pool.acquire(1s));
    std::thread impatient([&] { EXPECT_THROW(pool.acquire(100ms), TimeoutError); });
    waitForWaiters(pool, 1);
    std::atomic<bool> got{false};
    std::thread patient([&] {
        auto h = pool.acquire(60s);
        got = true;
    });
    impatient.join(); // timed out while first in line
    waitForWaiters(pool, 1);
    held.reset();
    patient.join();
    EXPECT_TRUE(got.load());
}

TEST(Pool, BrokenResourceIsDroppedAndReplaced)
{
    Census census;
    auto pool = makePool(census, 1);
    int first = 0;
    {
        auto h = pool.acquire(1s);
        first = h->id;
        h.markBroken();
    }
    EXPECT_EQ(pool.size(), 0u);
    EXPECT_EQ(census.alive.load(), 0);
    auto h = pool.acquire(1s);
    EXPECT_NE(h->id, first);
    EXPECT_EQ(census.alive.load(), 1);
}

TEST(Pool, BrokenResourceFreesTheSlotForAWaiter)
{
    Census census;
    auto pool = makePool(census, 1);
    auto held = std::make_unique<Pool<Fake>::Handle>(pool.acquire(1s));
    int waiterGot = 0;
    std::thread waiter([&] { waiterGot = pool.acquire(60s)->id; });
    waitForWaiters(pool, 1);
    held->markBroken();
    held.reset();
    waiter.join();
    EXPECT_EQ(waiterGot, 2);
    EXPECT_LE(census.peak.load(), 1);
}

TEST(Pool, InvalidIdleResourceIsReplacedOnHandOut)
{
    Census census;
    auto pool = makePool(census, 2);
    {
        auto h = pool.acquire(1s);
        h->valid = false; // e.g. the server closed the connection while it sat idle
    }
    auto h = pool.acquire(1s);
    EXPECT_TRUE(h->valid);
    EXPECT_EQ(h->id, 2);
    EXPECT_EQ(census.alive.load(), 1);
    EXPECT_EQ(pool.size(), 1u);
}

TEST(Pool, FailingFactoryFreesItsSlotAndPropagates)
{
    Census census;
    std::atomic<int> failuresLeft{2};
    Pool<Fake> pool(1, [&]() -> std::unique_ptr<Fake> {
        if (failuresLeft-- > 0) throw Error("cannot connect to 'db-host': refused");
        return std::make_unique<Fake>(census);
    });
    try {
        pool.acquire(1s);
        FAIL() << "the factory's error was swallowed";
    } catch (const Error& e) {
        EXPECT_STREQ(e.what(), "cannot connect to 'db-host': refused");
    }
    EXPECT_EQ(pool.size(), 0u);
    EXPECT_THROW(pool.acquire(1s), Error);
    auto h = pool.acquire(1s); // the slot was not leaked by the two failures
    EXPECT_EQ(pool.size(), 1u);
}

TEST(Pool, WaiterCreatesWhenTheCreatorAheadOfItFails)
{
    Census census;
    std::atomic<bool> release{false};
    std::atomic<bool> creating{false};
    Pool<Fake> pool(1, [&]() -> std::unique_ptr<Fake> {
        if (!creating.exchange(true)) {
            while (!release) std::this_thread::sleep_for(1ms);
            throw Error("first connection attempt failed");
        }
        return std::make_unique<Fake>(census);
    });
    std::thread first([&] { EXPECT_THROW(pool.acquire(60s), Error); });
    while (!creating) std::this_thread::sleep_for(1ms);
    bool secondGot = false;
    std::thread second([&] { secondGot = pool.acquire(60s).get().id == 1; });
    waitForWaiters(pool, 1);
    release = true;
    first.join();
    second.join();
    EXPECT_TRUE(secondGot);
}

TEST(Pool, ZeroMaximumIsRejected)
{
    Census census;
    EXPECT_THROW(makePool(census, 0), Error);
}

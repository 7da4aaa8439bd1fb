// SerialQueues (tasks of one build in order, one at a time; other builds meanwhile) and
// RetryPolicy (exponential back-off with a cap).

#include "notify/retry_policy.hh"
#include "notify/serial_queues.hh"

#include <gtest/gtest.h>

using namespace hydra::notify;
using namespace std::chrono_literals;

TEST(SerialQueues, OneKeyInOrderOneAtATime)
{
    SerialQueues<int> q;
    q.push(7, 1);
    q.push(7, 2);
    q.push(8, 3);
    auto a = q.take(0ms);
    ASSERT_TRUE(a);
    EXPECT_EQ(a->first, 7);
    EXPECT_EQ(a->second, 1);
    // Key 7 is held: the next task is the other key's, not 7's second.
    auto b = q.take(0ms);
    ASSERT_TRUE(b);
    EXPECT_EQ(b->first, 8);
    EXPECT_FALSE(q.take(0ms));
    EXPECT_EQ(q.depth(), 1u);
    q.done(7);
    auto c = q.take(0ms);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->second, 2);
    q.done(7);
    q.done(8);
    EXPECT_EQ(q.depth(), 0u);
}

TEST(SerialQueues, CloseStopsTaking)
{
    SerialQueues<int> q;
    q.push(1, 1);
    q.close();
    EXPECT_FALSE(q.take(1000ms));
    EXPECT_EQ(q.depth(), 1u);
}

TEST(RetryPolicy, DoublesUpToTheCap)
{
    RetryPolicy p;
    EXPECT_EQ(p.delaySeconds(1), 2);
    EXPECT_EQ(p.delaySeconds(2), 4);
    EXPECT_EQ(p.delaySeconds(3), 8);
    EXPECT_EQ(p.delaySeconds(12), 3600);
    EXPECT_EQ(p.delaySeconds(1000), 3600);
    p.base = 300ms;
    EXPECT_EQ(p.delaySeconds(1), 1); // 600 ms, rounded up to a whole second
    EXPECT_EQ(p.delaySeconds(3), 3); // 2.4 s
    p.base = 0ms;
    EXPECT_EQ(p.delaySeconds(5), 0);
}

#include "server/login_throttle.hh"

#include <gtest/gtest.h>

using hydra::server::LoginThrottle;

namespace {

struct ThrottleTest : ::testing::Test {
    int64_t now = 1000;
    LoginThrottle throttle{[this] { return now; }};
    void fail(int n, const std::string& addr = "10.0.0.1")
    {
        for (int i = 0; i < n; ++i) throttle.recordFailure(addr);
    }
};

TEST_F(ThrottleTest, AFewFailuresCostNothing)
{
    fail(LoginThrottle::freeFailures - 1);
    EXPECT_FALSE(throttle.retryAfter("10.0.0.1"));
}

TEST_F(ThrottleTest, FurtherFailuresDoubleTheWaitUpToTheMaximum)
{
    fail(LoginThrottle::freeFailures);
    EXPECT_EQ(throttle.retryAfter("10.0.0.1"), 1);
    fail(1);
    EXPECT_EQ(throttle.retryAfter("10.0.0.1"), 2);
    fail(1);
    EXPECT_EQ(throttle.retryAfter("10.0.0.1"), 4);
    now += 3;
    EXPECT_EQ(throttle.retryAfter("10.0.0.1"), 1);
    now += 1;
    EXPECT_FALSE(throttle.retryAfter("10.0.0.1"));
    fail(40);
    EXPECT_EQ(throttle.retryAfter("10.0.0.1"), LoginThrottle::maxDelay);
}

TEST_F(ThrottleTest, OtherAddressesAreNotAffected)
{
    fail(20);
    EXPECT_TRUE(throttle.retryAfter("10.0.0.1"));
    EXPECT_FALSE(throttle.retryAfter("10.0.0.2"));
}

TEST_F(ThrottleTest, SuccessOrAQuietPeriodForgets)
{
    fail(10);
    throttle.recordSuccess("10.0.0.1");
    EXPECT_FALSE(throttle.retryAfter("10.0.0.1"));
    fail(10);
    now += LoginThrottle::forgetAfter;
    EXPECT_FALSE(throttle.retryAfter("10.0.0.1"));
    fail(1);
    EXPECT_FALSE(throttle.retryAfter("10.0.0.1"));
}

} // namespace

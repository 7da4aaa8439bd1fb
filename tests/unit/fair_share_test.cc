// FairShare: build seconds per jobset in a sliding window against scheduling shares.

#include "queue-runner/fair_share.hh"

#include <gtest/gtest.h>

using namespace hydra;
using namespace hydra::qr;
using namespace std::chrono_literals;

TEST(FairShare, UsageExpiresAfterTheWindow)
{
    FakeClock clock;
    FairShare share(24h);
    auto t0 = clock.now();
    share.addUsage(1, t0, 1000s);
    share.addUsage(1, t0 + 12h, 500s);
    EXPECT_EQ(share.usedSeconds(1, t0 + 13h), 1500);
    EXPECT_EQ(share.usedSeconds(1, t0 + 24h + 1s), 500);
    EXPECT_EQ(share.usedSeconds(1, t0 + 36h + 1s), 0);
    EXPECT_EQ(share.usedSeconds(2, t0), 0);
}

TEST(FairShare, ShareUsedIsSecondsOverShares)
{
    FakeClock clock;
    FairShare share(24h, 100);
    auto now = clock.now();
    share.addUsage(1, now, 1000s);
    share.addUsage(2, now, 1000s);
    share.setShares(2, 1000);
    EXPECT_DOUBLE_EQ(share.shareUsed(1, now), 10.0); // default shares 100
    EXPECT_DOUBLE_EQ(share.shareUsed(2, now), 1.0);
    share.setShares(3, 0); // treated as 1, never a division by zero
    share.addUsage(3, now, 5s);
    EXPECT_DOUBLE_EQ(share.shareUsed(3, now), 5.0);
}

// MonitorEvents: how the queue monitor folds notifications together, when its periodic look is
// due (under a FakeClock), and what that look and a reconcile decide.

#include "queue-runner/monitor_events.hh"

#include <gtest/gtest.h>

using namespace hydra;
using namespace hydra::qr;
using namespace std::chrono_literals;

namespace {

MonitorEvents idle()
{
    return MonitorEvents{.rescan = false};
}

} // namespace

TEST(MonitorEvents, BuildsAddedKeepTheLowestIdAnnounced)
{
    // Evaluations committing at once make ids visible out of order: look again from the lowest.
    auto e = idle();
    e.note("builds_added", "120");
    e.note("builds_added", "100");
    e.note("builds_added", "130");
    EXPECT_EQ(e.lowestAdded, 100);
    EXPECT_FALSE(e.rescan);
    EXPECT_EQ(e.count, 3U);
    EXPECT_TRUE(e.pending());
}

TEST(MonitorEvents, AnAnnouncementWithoutAnIdOrARestartAsksForEverything)
{
    auto e = idle();
    e.note("builds_added", "");
    EXPECT_TRUE(e.rescan);
    auto r = idle();
    r.note("builds_restarted", ""); // restarted builds keep their old, lower ids
    EXPECT_TRUE(r.rescan);
    EXPECT_FALSE(r.lowestAdded);
}

TEST(MonitorEvents, EachChannelAsksForItsOwnWork)
{
    auto e = idle();
    e.note("builds_cancelled", "");
    EXPECT_TRUE(e.reconcile);
    e = idle();
    e.note("builds_deleted", "");
    EXPECT_TRUE(e.reconcile);
    e = idle();
    e.note("builds_bumped", "");
    EXPECT_TRUE(e.bumped);
    e = idle();
    e.note("jobset_shares_changed", "");
    EXPECT_TRUE(e.sharesChanged);
    e = idle();
    e.note("something_else", "1");
    EXPECT_FALSE(e.pending());
    EXPECT_EQ(e.count, 1U);
    EXPECT_EQ(monitorChannels().size(), 6U);
}

TEST(MonitorEvents, AGapAsksForEverything)
{
    auto e = idle();
    e.noteGap();
    EXPECT_TRUE(e.rescan && e.reconcile && e.bumped && e.sharesChanged);
}

TEST(MonitorEvents, TakingLeavesOnlyTheCountAndTheLookIsDueByTheClock)
{
    FakeClock clock;
    auto due = clock.now() + 30s;
    auto e = idle();
    e.note("builds_added", "7");
    auto taken = e.take(clock.now(), due);
    EXPECT_EQ(taken.lowestAdded, 7);
    EXPECT_FALSE(taken.periodic);
    EXPECT_FALSE(e.pending());
    EXPECT_EQ(e.count, 1U);
    clock.advance(30s);
    // Due even with notifications waiting: they do not tell what was never announced.
    e.note("builds_bumped", "");
    taken = e.take(clock.now(), due);
    EXPECT_TRUE(taken.periodic);
    EXPECT_TRUE(taken.bumped);
}

TEST(MonitorEvents, AReconcileDropsWhatTheDatabaseNoLongerHasQueued)
{
    std::vector<db::BuildState> states{{.id = 1, .finished = false}, {.id = 2, .finished = true}};
    // 3 is gone from the database altogether (deleted).
    EXPECT_EQ(noLongerQueued({1, 2, 3}, states), (std::vector<db::BuildId>{2, 3}));
}

TEST(MonitorEvents, TheLookAgainRaisesPrioritiesAndLoadsFromTheLowestUnknownBuild)
{
    std::vector<db::QueuedPriority> queued{{.id = 4, .globalPriority = 0},
                                           {.id = 5, .globalPriority = 10},
                                           {.id = 9, .globalPriority = 0},
                                           {.id = 7, .globalPriority = 0}};
    auto plan = lookAgain({4, 5}, queued, {});
    ASSERT_EQ(plan.bumps.size(), 2U);
    EXPECT_EQ(plan.bumps[1].globalPriority, 10);
    EXPECT_EQ(plan.loadFrom, 7);
    // A build with the substitution worker is not unknown; with everything held, nothing loads.
    EXPECT_EQ(lookAgain({4, 5, 9}, queued, {7}).loadFrom, std::nullopt);
}

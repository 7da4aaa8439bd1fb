#include "evaluator/jobset_schedule.hh"

#include <gtest/gtest.h>

using namespace hydra;
using namespace hydra::evaluator;
using db::JobsetMode;
using db::JobsetState;

namespace {

JobsetState jobset(int id, std::optional<int64_t> lastChecked, int interval = 300)
{
    JobsetState j;
    j.id = id;
    j.project = "p";
    j.name = "j" + std::to_string(id);
    j.lastCheckedTime = lastChecked;
    j.checkInterval = interval;
    return j;
}

std::vector<int> ids(const std::vector<JobsetState>& v)
{
    std::vector<int> out;
    for (const auto& j : v) out.push_back(j.id);
    return out;
}

} // namespace

TEST(JobsetSchedule, NeverCheckedIsDueAndIntervalCounts)
{
    EXPECT_TRUE(isDue(jobset(1, std::nullopt), 1000));
    EXPECT_FALSE(isDue(jobset(1, 800), 1000));
    EXPECT_TRUE(isDue(jobset(1, 700), 1000));
}

TEST(JobsetSchedule, IntervalZeroOnlyOnTrigger)
{
    auto j = jobset(1, 0, 0);
    EXPECT_FALSE(isDue(j, 1'000'000));
    j.triggerTime = 5;
    EXPECT_TRUE(isDue(j, 1'000'000));
}

TEST(JobsetSchedule, DisabledRunningAndWaitingJobsetsAreNotDue)
{
    auto off = jobset(1, std::nullopt);
    off.mode = JobsetMode::Disabled;
    auto held = jobset(2, std::nullopt);
    held.startTime = 900;
    auto waiting = jobset(3, std::nullopt);
    waiting.mode = JobsetMode::OneAtATime;
    waiting.lastEvalHasUnfinished = true;
    auto free = jobset(4, std::nullopt);
    free.mode = JobsetMode::OneAtATime;
    EXPECT_EQ(ids(dueJobsets({off, held, waiting, free}, {}, 1000, 10)), std::vector<int>{4});
    waiting.triggerTime = 950; // asked for explicitly: evaluated even so
    EXPECT_EQ(ids(dueJobsets({off, held, waiting, free}, {}, 1000, 10)), (std::vector<int>{3, 4}));
}

TEST(JobsetSchedule, TriggeredFirstOldestTriggerFirstThenLongestUnchecked)
{
    auto a = jobset(1, 100);
    auto b = jobset(2, 50);
    auto c = jobset(3, 900);
    c.triggerTime = 950;
    auto d = jobset(4, 990);
    d.triggerTime = 940;
    EXPECT_EQ(ids(dueJobsets({a, b, c, d}, {}, 1000, 10)), (std::vector<int>{4, 3, 2, 1}));
}

TEST(JobsetSchedule, AtMostTheFreeSlotsAndNotWhatRuns)
{
    std::vector<JobsetState> all{jobset(1, 10), jobset(2, 20), jobset(3, 30)};
    EXPECT_EQ(ids(dueJobsets(all, {1}, 1000, 1)), std::vector<int>{2});
    EXPECT_TRUE(dueJobsets(all, {}, 1000, 0).empty());
}

TEST(JobsetSchedule, NextDueTimeIsTheEarliestInterval)
{
    std::vector<JobsetState> all{jobset(1, 900, 300), jobset(2, 950, 100), jobset(3, 0, 0)};
    EXPECT_EQ(nextDueTime(all, 1000), 1050);
    EXPECT_EQ(nextDueTime({jobset(3, 0, 0)}, 1000), std::nullopt);
}

// RunCommandLogs against a real PostgreSQL: loadBuildStartingRun reads the build and creates the
// row of the command about to start in one statement, except for a command that already ended
// since the build's notification became pending, and for a build that is gone.

#include "db/build_description.hh"
#include "db/run_command_logs.hh"
#include "db/schema.hh"
#include "harness/hydra_rows.hh"
#include "harness/pg_fixture.hh"

#include <gtest/gtest.h>

#include <memory>
#include <pqxx/pqxx>

using namespace hydra;
using namespace hydra::db;
using hydra::test::HydraRows;
using hydra::test::PgCluster;

namespace {

class RunCommandLogsTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        conn =
            std::make_unique<pqxx::connection>(PgCluster::get().conninfo(PgCluster::get().freshDatabase()));
        initSchema(*conn);
        HydraRows rows(*conn);
        id = rows.queueBuild(rows.jobset("js"), "hello", "/nix/store/aaa-hello.drv", "/nix/store/bbb-hello");
        exec("UPDATE Builds SET notificationPendingSince = 1000 WHERE id = " + std::to_string(id));
    }

    BuildWithStartedRun start(BuildId b, int64_t at, bool unlessEnded)
    {
        pqxx::work t(*conn);
        auto r = loadBuildStartingRun(t, b, "*:*:*", "true", at, unlessEnded);
        t.commit();
        return r;
    }

    void end(int64_t row, int64_t at)
    {
        pqxx::work t(*conn);
        RunCommandOutcome o;
        o.endTime = at;
        o.exitCode = 0;
        markRunCommandEnded(t, row, o);
        t.commit();
    }

    void exec(const std::string& sql)
    {
        pqxx::work t(*conn);
        t.exec(sql);
        t.commit();
    }

    long long count(const std::string& sql)
    {
        pqxx::read_transaction t(*conn);
        return t.exec1(sql)[0].as<long long>();
    }

    std::unique_ptr<pqxx::connection> conn;
    BuildId id = 0;
};

TEST_F(RunCommandLogsTest, StartsTheRunAsItReadsTheBuild)
{
    auto r = start(id, 1100, true);
    ASSERT_TRUE(r.description);
    EXPECT_EQ(r.description->job, "hello");
    EXPECT_EQ(r.description->project, "p");
    EXPECT_EQ(r.description->notificationPendingSince, 1000);
    ASSERT_EQ(r.description->outputs.size(), 1u);
    ASSERT_TRUE(r.started);
    EXPECT_EQ(r.started->uuid.size(), 36u);
    pqxx::read_transaction t(*conn);
    auto row =
        t.exec_params1("SELECT job_matcher, build_id, command, uuid::text, start_time, end_time IS NULL "
                       "FROM RunCommandLogs WHERE id = $1",
                       r.started->id);
    EXPECT_EQ(row[0].as<std::string>(), "*:*:*");
    EXPECT_EQ(row[1].as<BuildId>(), id);
    EXPECT_EQ(row[2].as<std::string>(), "true");
    EXPECT_EQ(row[3].as<std::string>(), r.started->uuid);
    EXPECT_EQ(row[4].as<int64_t>(), 1100);
    EXPECT_TRUE(row[5].as<bool>());
}

TEST_F(RunCommandLogsTest, CommandThatEndedSinceThePendingNotificationIsNotStartedAgain)
{
    auto first = start(id, 1100, true);
    ASSERT_TRUE(first.started);
    // Interrupted: a run without an end does not count.
    auto again = start(id, 1150, true);
    ASSERT_TRUE(again.started);
    end(again.started->id, 1160);
    auto third = start(id, 1200, true);
    ASSERT_TRUE(third.description);
    EXPECT_FALSE(third.started);
    EXPECT_TRUE(start(id, 1300, false).started) << "other events run it each time";
    EXPECT_EQ(count("SELECT count(*) FROM RunCommandLogs"), 3);
}

TEST_F(RunCommandLogsTest, RunThatEndedBeforeTheNotificationBecamePendingDoesNotCount)
{
    auto old = start(id, 900, true);
    ASSERT_TRUE(old.started);
    end(old.started->id, 950);
    EXPECT_TRUE(start(id, 1100, true).started);
}

TEST_F(RunCommandLogsTest, BuildThatIsGoneStartsNothing)
{
    auto r = start(id + 1000, 1100, true);
    EXPECT_FALSE(r.description);
    EXPECT_FALSE(r.started);
    EXPECT_EQ(count("SELECT count(*) FROM RunCommandLogs"), 0);
}

} // namespace

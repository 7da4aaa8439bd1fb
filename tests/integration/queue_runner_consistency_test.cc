// hydra-queue-runner keeps its queue in step with the database: a commit that fails leaves
// both as they were, and the periodic look finds what no notification announced.

#include "harness/nix_graph.hh"
#include "harness/pg_fixture.hh"
#include "harness/queue_runner_fixture.hh"

#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

using namespace hydra;
using namespace hydra::test;
using namespace std::chrono_literals;

namespace {

class QueueRunnerConsistencyTest : public QueueRunnerFixture {
protected:
    /// The first commit that finishes a build fails, as a lost connection or a full disk
    /// would make it; later ones go through.
    void failFirstFinish()
    {
        // A sequence, not a table: its nextval survives the rollback of the failing commit.
        exec("CREATE SEQUENCE finish_attempts");
        exec("CREATE FUNCTION failFirstFinish() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
             "  IF nextval('finish_attempts') = 1 THEN RAISE EXCEPTION 'injected commit failure'; END IF; "
             "  RETURN NEW; END $$");
        exec("CREATE TRIGGER FailFirstFinish BEFORE UPDATE ON Builds FOR EACH ROW "
             "WHEN (old.finished = 0 AND new.finished = 1) EXECUTE PROCEDURE failFirstFinish()");
    }

    bool injectedFailureHappened()
    {
        return query1<long long>("SELECT last_value FROM finish_attempts") >= 1 &&
               query1<bool>("SELECT is_called FROM finish_attempts");
    }

    /// The runner's in-memory figures, as `hydra-queue-runner --status` prints them.
    nlohmann::json status()
    {
        auto r = run({.argv = {queueRunnerBinary(), "--status"}, .setEnv = runnerEnv()}, {}, 30s);
        EXPECT_TRUE(exitedOk(r.status)) << r.err;
        return exitedOk(r.status) ? nlohmann::json::parse(r.out) : nlohmann::json{};
    }

    /// Waits until the runner holds `want` builds in its queue.
    void waitForQueuedInMemory(long long want, std::chrono::seconds limit)
    {
        auto deadline = std::chrono::steady_clock::now() + limit;
        long long got = -1;
        while ((got = status().value("nrQueuedBuilds", -1LL)) != want) {
            ASSERT_LT(std::chrono::steady_clock::now(), deadline)
                << "the runner holds " << got << " builds, wanted " << want << "; log:\n"
                << runnerLog();
            std::this_thread::sleep_for(200ms);
        }
    }

    /// How many build_finished notifications named build `id` (first or among the dependents).
    size_t finishedAnnouncements(long long id)
    {
        size_t n = 0;
        for (const auto& p : payloads("build_finished")) {
            std::istringstream fields(p);
            std::string field;
            while (std::getline(fields, field, '\t'))
                if (field == std::to_string(id)) ++n;
        }
        return n;
    }
};

} // namespace

TEST_F(QueueRunnerConsistencyTest, ASuccessWhoseCommitFailsLeavesTheBuildQueuedAndItIsFinishedOnce)
{
    // No periodic look during the test: only the runner's own bookkeeping can save the build.
    addConfig("queue_monitor_interval = 3600\n");
    failFirstFinish();
    NixGraph g;
    g.add("dep");
    g.add("top", {"dep"});
    auto drvs = g.derivations();
    int js = rows_->jobset();
    auto id = rows_->queueBuild(js, "top", drvs.at("top").drvPath, drvs.at("top").out());
    startRunner();
    waitForFinished({id}, 90s);
    EXPECT_TRUE(injectedFailureHappened());
    EXPECT_NE(runnerLog().find("injected commit failure"), std::string::npos) << runnerLog();
    EXPECT_EQ(buildStatus(id), 0) << runnerLog();
    ASSERT_NO_FATAL_FAILURE(waitForQueuedInMemory(0, 30s));
    std::this_thread::sleep_for(500ms); // the listener's last deliveries
    EXPECT_EQ(finishedAnnouncements(id), 1u) << runnerLog();
    EXPECT_EQ(query1<long long>("SELECT count(*) FROM BuildSteps WHERE busy != 0"), 0);
}

TEST_F(QueueRunnerConsistencyTest, AFailureWhoseCommitFailsLeavesItsBuildsQueuedAndTheyAreFailedOnce)
{
    addConfig("queue_monitor_interval = 3600\n");
    failFirstFinish();
    NixGraph g;
    g.add("broken").script = scripts::failing();
    g.add("user", {"broken"});
    auto drvs = g.derivations();
    int js = rows_->jobset();
    auto broken = rows_->queueBuild(js, "broken", drvs.at("broken").drvPath, drvs.at("broken").out());
    auto user = rows_->queueBuild(js, "user", drvs.at("user").drvPath, drvs.at("user").out());
    startRunner();
    waitForFinished({broken, user}, 90s);
    EXPECT_TRUE(injectedFailureHappened());
    EXPECT_EQ(buildStatus(broken), 1) << runnerLog();
    EXPECT_EQ(buildStatus(user), 2) << runnerLog();
    ASSERT_NO_FATAL_FAILURE(waitForQueuedInMemory(0, 30s));
    std::this_thread::sleep_for(500ms);
    EXPECT_EQ(finishedAnnouncements(broken), 1u) << runnerLog();
    EXPECT_EQ(finishedAnnouncements(user), 1u) << runnerLog();
}

TEST_F(QueueRunnerConsistencyTest, AQueuedBuildNobodyAnnouncedIsBuiltAfterThePeriodicLook)
{
    addConfig("queue_monitor_interval = 2\n");
    NixGraph g;
    g.add("announced");
    g.add("silent");
    auto drvs = g.derivations();
    int js = rows_->jobset();
    startRunner();
    // A build announced as an evaluator does: the runner is up and past its first look.
    auto first = rows_->queueBuild(js, "announced", drvs.at("announced").drvPath, drvs.at("announced").out());
    rows_->announceAdded(first);
    waitForFinished({first}, 60s);
    // Queued without builds_added, as when the notification is lost.
    auto silent = rows_->queueBuild(js, "silent", drvs.at("silent").drvPath, drvs.at("silent").out());
    waitForFinished({silent}, 60s);
    EXPECT_EQ(buildStatus(silent), 0) << runnerLog();
    EXPECT_TRUE(validLocally(drvs.at("silent").out()));
}

TEST_F(QueueRunnerConsistencyTest, ABuildFinishedBehindTheRunnersBackLeavesItsQueueAtThePeriodicLook)
{
    addConfig("queue_monitor_interval = 2\n");
    NixGraph g;
    g.add("slow").script = scripts::sleeping(60);
    g.add("waiting", {"slow"});
    auto drvs = g.derivations();
    int js = rows_->jobset();
    auto id = rows_->queueBuild(js, "waiting", drvs.at("waiting").drvPath, drvs.at("waiting").out());
    startRunner();
    waitForCount("SELECT count(*) FROM BuildSteps WHERE busy = 30", 1);
    ASSERT_NO_FATAL_FAILURE(waitForQueuedInMemory(1, 30s));
    // Aborted by hand, with no notification (the cancel trigger fires for status 4 only).
    exec("UPDATE Builds SET finished = 1, buildStatus = 3, startTime = extract(epoch from now())::bigint, "
         "stopTime = extract(epoch from now())::bigint WHERE id = " +
         std::to_string(id));
    ASSERT_NO_FATAL_FAILURE(waitForQueuedInMemory(0, 20s));
    // Its step, needed by no build any more, is stopped rather than built for a minute.
    waitForCount("SELECT count(*) FROM BuildSteps WHERE busy != 0", 0, 20s);
    EXPECT_EQ(query1<int>("SELECT status FROM BuildSteps WHERE build = " + std::to_string(id)), 4);
    EXPECT_EQ(buildStatus(id), 3) << "the runner must not overwrite what was recorded";
    EXPECT_FALSE(validLocally(drvs.at("slow").out()));
}

// hydra-queue-runner with use-substitutes: outputs in a binary cache are fetched (a substitution
// step, type 1) instead of built; the real binary, PostgreSQL, the local store and a file://
// binary cache.

#include "harness/binary_cache.hh"
#include "harness/nix_graph.hh"
#include "harness/queue_runner_fixture.hh"

#include <filesystem>
#include <gtest/gtest.h>

using namespace hydra;
using namespace hydra::test;

namespace {

class QueueRunnerSubstitutesTest : public QueueRunnerFixture {
protected:
    /// Builds the named nodes, puts their outputs in the cache and deletes them locally.
    void cacheOnly(const std::map<std::string, NixDrv>& built, const std::vector<std::string>& names)
    {
        for (const auto& n : names) {
            cache_.add(built.at(n).out());
            deleteFromStore(built.at(n).out());
            ASSERT_FALSE(validLocally(built.at(n).out())) << n;
        }
    }

    void start(bool useSubstitutes)
    {
        addConfig(std::string("use-substitutes = ") + (useSubstitutes ? "1" : "0"));
        startRunner("", {{"NIX_CONFIG", cache_.nixConfig()}});
    }

    long long steps(const std::string& drvPath, int type)
    {
        return query1<long long>("SELECT count(*) FROM BuildSteps WHERE type = " + std::to_string(type) +
                                 " AND drvPath = '" + drvPath + "'");
    }

    BinaryCache cache_;
};

} // namespace

TEST_F(QueueRunnerSubstitutesTest, OutputInTheCacheIsSubstitutedNotBuilt)
{
    NixGraph g;
    g.add("a");
    auto built = g.build();
    cacheOnly(built, {"a"});
    const auto& a = built.at("a");
    auto id = rows_->queueBuild(rows_->jobset(), "a", a.drvPath, a.out());
    start(true);
    waitForFinished({id});

    EXPECT_EQ(buildStatus(id), 0) << runnerLog();
    EXPECT_EQ(query1<int>("SELECT isCachedBuild FROM Builds WHERE id = " + std::to_string(id)), 1);
    EXPECT_TRUE(validLocally(a.out()));
    EXPECT_EQ(steps(a.drvPath, 0), 0) << "nothing was built: " << runnerLog();
    ASSERT_EQ(steps(a.drvPath, 1), 1) << runnerLog();
    EXPECT_EQ(query1<long long>("SELECT count(*) FROM BuildSteps WHERE type = 1 AND status = 0 AND busy = 0 "
                                "AND startTime IS NOT NULL AND stopTime >= startTime AND build = " +
                                std::to_string(id)),
              1);
    EXPECT_EQ(query1<std::string>("SELECT o.name || ' ' || o.path FROM BuildStepOutputs o JOIN BuildSteps s "
                                  "ON s.build = o.build AND s.stepnr = o.stepnr WHERE s.type = 1"),
              "out " + a.out());
    EXPECT_EQ(stopRunner(), 0);
}

TEST_F(QueueRunnerSubstitutesTest, DependencyIsSubstitutedAndDependentBuiltOnTop)
{
    NixGraph g;
    g.add("a");
    g.add("b", {"a"});
    auto built = g.build({"a"});
    auto drvs = g.derivations();
    cacheOnly(built, {"a"});
    const auto& b = drvs.at("b");
    auto id = rows_->queueBuild(rows_->jobset(), "b", b.drvPath, b.out());
    start(true);
    waitForFinished({id});

    EXPECT_EQ(buildStatus(id), 0) << runnerLog();
    EXPECT_EQ(steps(drvs.at("a").drvPath, 1), 1) << runnerLog();
    EXPECT_EQ(steps(drvs.at("a").drvPath, 0), 0) << runnerLog();
    EXPECT_EQ(steps(b.drvPath, 0), 1) << "b is in no cache: built " << runnerLog();
    EXPECT_EQ(steps(b.drvPath, 1), 0);
    EXPECT_EQ(
        query1<long long>("SELECT count(*) FROM BuildSteps WHERE status IS DISTINCT FROM 0 OR busy != 0"), 0);
    EXPECT_TRUE(validLocally(drvs.at("a").out()));
    EXPECT_TRUE(validLocally(b.out()));
    EXPECT_EQ(stopRunner(), 0);
}

TEST_F(QueueRunnerSubstitutesTest, WithoutUseSubstitutesTheOutputIsBuilt)
{
    NixGraph g;
    g.add("a");
    auto built = g.build();
    cacheOnly(built, {"a"});
    const auto& a = built.at("a");
    auto id = rows_->queueBuild(rows_->jobset(), "a", a.drvPath, a.out());
    start(false);
    waitForFinished({id});

    EXPECT_EQ(buildStatus(id), 0) << runnerLog();
    EXPECT_EQ(steps(a.drvPath, 0), 1) << runnerLog();
    EXPECT_EQ(steps(a.drvPath, 1), 0) << runnerLog();
    EXPECT_TRUE(validLocally(a.out()));
    EXPECT_EQ(stopRunner(), 0);
}

TEST_F(QueueRunnerSubstitutesTest, FailedSubstitutionFallsBackToBuilding)
{
    NixGraph g;
    g.add("a");
    auto built = g.build();
    cacheOnly(built, {"a"});
    // The cache still announces the path (its .narinfo) but cannot deliver it.
    auto dir = cache_.uri().substr(std::string("file://").size());
    std::filesystem::remove_all(dir + "/nar");
    const auto& a = built.at("a");
    auto id = rows_->queueBuild(rows_->jobset(), "a", a.drvPath, a.out());
    start(true);
    waitForFinished({id});

    EXPECT_EQ(buildStatus(id), 0) << runnerLog();
    EXPECT_EQ(steps(a.drvPath, 1), 0) << runnerLog();
    EXPECT_EQ(steps(a.drvPath, 0), 1) << runnerLog();
    EXPECT_TRUE(validLocally(a.out()));
    EXPECT_EQ(stopRunner(), 0);
}

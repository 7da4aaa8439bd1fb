// hydra-queue-runner end to end: the real binary, PostgreSQL, the local Nix store and ssh hosts.

#include "harness/build_host.hh"
#include "harness/nix_graph.hh"
#include "harness/queue_runner_fixture.hh"

#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <thread>

using namespace hydra;
using namespace hydra::test;
using namespace std::chrono_literals;

namespace {

using QueueRunnerTest = QueueRunnerFixture;

NixGraph sharedDag()
{
    NixGraph g;
    g.add("base");
    g.add("left", {"base"});
    g.add("right", {"base"});
    g.add("join", {"left", "right"});
    for (int i = 0; i < 6; ++i) g.add("leaf" + std::to_string(i), {i % 2 ? "left" : "right"});
    g.add("top1", {"join", "leaf0", "leaf1", "leaf2"});
    g.add("top2", {"join", "leaf3", "leaf4"});
    g.add("top3", {"leaf5"});
    return g;
}

} // namespace

TEST_F(QueueRunnerTest, BuildsSharedDagOnLocalhostOnceEachWithRowsAndNotifications)
{
    auto g = sharedDag();
    auto drvs = g.derivations();
    int js = rows_->jobset();
    std::vector<long long> ids;
    for (auto top : {"top1", "top2", "top3"})
        ids.push_back(rows_->queueBuild(js, top, drvs.at(top).drvPath, drvs.at(top).out()));
    startRunner();
    waitForFinished(ids);

    for (auto id : ids) EXPECT_EQ(buildStatus(id), 0) << runnerLog();
    for (auto& [name, d] : drvs) EXPECT_TRUE(validLocally(d.out())) << name;
    // Every derivation was built exactly once, shared steps included.
    EXPECT_EQ(query1<long long>("SELECT count(*) FROM BuildSteps"), static_cast<long long>(drvs.size()));
    EXPECT_EQ(query1<long long>("SELECT count(DISTINCT drvPath) FROM BuildSteps"),
              static_cast<long long>(drvs.size()));
    EXPECT_EQ(query1<long long>(
                  "SELECT count(*) FROM BuildSteps WHERE busy != 0 OR status != 0 OR stopTime IS NULL"),
              0);
    EXPECT_EQ(query1<std::string>("SELECT string_agg(DISTINCT machine, ',') FROM BuildSteps"), "localhost");
    // Finished builds record their outputs and wait for hydra-notify.
    EXPECT_EQ(query1<long long>(
                  "SELECT count(*) FROM Builds WHERE notificationPendingSince IS NULL OR stopTime IS NULL"),
              0);
    for (auto top : {"top1", "top2", "top3"})
        EXPECT_TRUE(std::filesystem::is_symlink(
            state_ + "/gcroots/" + std::filesystem::path(drvs.at(top).out()).filename().string()));

    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (count("build_finished") < 3 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(50ms);
    EXPECT_EQ(count("build_finished"), 3u);
    EXPECT_EQ(count("step_started"), drvs.size());
    EXPECT_EQ(count("step_finished"), drvs.size());
    for (auto& p : payloads("step_finished")) {
        auto fields = std::count(p.begin(), p.end(), '\t');
        EXPECT_EQ(fields, 2) << "step_finished carries build, step and log path: " << p;
    }
    EXPECT_GE(count("build_started"), 1u);
    EXPECT_EQ(stopRunner(), 0);
}

TEST_F(QueueRunnerTest, FailureFailsDependentsAndLaterBuildsOfItFailAtOnce)
{
    NixGraph g;
    g.add("ok");
    g.add("bad", {"ok"}).script = scripts::failing(3);
    g.add("top", {"bad"});
    auto drvs = g.derivations();
    int js = rows_->jobset();
    auto bad = rows_->queueBuild(js, "bad", drvs.at("bad").drvPath, drvs.at("bad").out());
    auto top = rows_->queueBuild(js, "top", drvs.at("top").drvPath, drvs.at("top").out());
    startRunner();
    waitForFinished({bad, top});
    EXPECT_EQ(buildStatus(bad), 1);
    EXPECT_EQ(buildStatus(top), 2);
    EXPECT_EQ(
        query1<long long>("SELECT count(*) FROM FailedPaths WHERE path = '" + drvs.at("bad").out() + "'"), 1);
    EXPECT_EQ(query1<int>("SELECT status FROM BuildSteps WHERE drvPath = '" + drvs.at("bad").drvPath +
                          "' AND build = " + std::to_string(bad)),
              1);

    // A new build of the failed derivation fails at once from FailedPaths, without building.
    auto again = rows_->queueBuild(js, "bad", drvs.at("bad").drvPath, drvs.at("bad").out());
    rows_->announceAdded(again);
    waitForFinished({again}, 30s);
    EXPECT_EQ(buildStatus(again), 1);
    EXPECT_EQ(query1<int>("SELECT isCachedBuild FROM Builds WHERE id = " + std::to_string(again)), 1);
    EXPECT_EQ(query1<int>("SELECT status FROM BuildSteps WHERE build = " + std::to_string(again)), 8);
}

TEST_F(QueueRunnerTest, BuildsCommittedOutOfOrderAreFoundFromTheLowestAnnouncedId)
{
    NixGraph g;
    for (int i = 0; i < 6; ++i) g.add("job" + std::to_string(i));
    auto drvs = g.derivations();
    int js = rows_->jobset();
    startRunner();
    // Two evaluations insert in turn, so their ids interleave; each announces its lowest id
    // when it commits. The one holding the lowest ids commits last.
    pqxx::connection connA(conninfo_), connB(conninfo_);
    pqxx::work evalA(connA), evalB(connB);
    std::vector<long long> idsA, idsB;
    for (int i = 0; i < 6; ++i) {
        auto name = "job" + std::to_string(i);
        auto& t = i % 2 ? evalB : evalA;
        auto id = t.exec_params1("INSERT INTO Builds (finished, timestamp, jobset_id, job, nixName, drvPath, "
                                 "system) VALUES (0, 1, $1, $2, $2, $3, 'x86_64-linux') RETURNING id",
                                 js, name, drvs.at(name).drvPath)[0]
                      .as<long long>();
        (i % 2 ? idsB : idsA).push_back(id);
    }
    ASSERT_LT(idsA.front(), idsB.front());
    ASSERT_LT(idsB.front(), idsA.back()); // interleaved
    evalB.exec_params("SELECT pg_notify('builds_added', $1)", std::to_string(idsB.front()));
    evalB.commit();
    waitForFinished(idsB, 60s);
    evalA.exec_params("SELECT pg_notify('builds_added', $1)", std::to_string(idsA.front()));
    evalA.commit();
    // Well before the monitor's periodic 30 s look: only the announced lowest id finds them.
    waitForFinished(idsA, 20s);
    for (auto id : idsA) EXPECT_EQ(buildStatus(id), 0);
    for (auto id : idsB) EXPECT_EQ(buildStatus(id), 0);
}

TEST_F(QueueRunnerTest, MissingDerivationAbortsTheBuildWithAClearMessage)
{
    int js = rows_->jobset();
    std::string missing = "/nix/store/00000000000000000000000000000000-gone.drv";
    auto id = rows_->queueBuild(js, "gone", missing, "/nix/store/00000000000000000000000000000000-gone");
    startRunner();
    waitForFinished({id}, 60s);
    EXPECT_EQ(buildStatus(id), 3);
    auto msg = query1<std::string>("SELECT errorMsg FROM BuildSteps WHERE build = " + std::to_string(id));
    EXPECT_NE(msg.find(missing), std::string::npos) << msg;
}

TEST_F(QueueRunnerTest, SigtermStopsCleanlyAndTheBuildRunsAfterARestart)
{
    NixGraph g;
    g.add("slow").script = scripts::sleeping(4);
    auto drvs = g.derivations();
    int js = rows_->jobset();
    auto id = rows_->queueBuild(js, "slow", drvs.at("slow").drvPath, drvs.at("slow").out());
    startRunner();
    auto deadline = std::chrono::steady_clock::now() + 60s;
    while (query1<long long>("SELECT count(*) FROM BuildSteps WHERE busy = 30") == 0) {
        ASSERT_LT(std::chrono::steady_clock::now(), deadline) << runnerLog();
        std::this_thread::sleep_for(100ms);
    }
    EXPECT_EQ(stopRunner(), 0);
    EXPECT_EQ(query1<long long>("SELECT count(*) FROM BuildSteps WHERE busy != 0"), 0);
    EXPECT_EQ(query1<int>("SELECT finished FROM Builds WHERE id = " + std::to_string(id)), 0);

    startRunner();
    waitForFinished({id}, 60s);
    EXPECT_EQ(buildStatus(id), 0) << runnerLog();
    EXPECT_TRUE(validLocally(drvs.at("slow").out()));
}

TEST_F(QueueRunnerTest, StepsRunOnARemoteBuildHostAndOutputsComeBack)
{
    BuildHost host;
    auto machines = state_ + "/machines";
    std::ofstream(machines) << host.machinesLine("x86_64-linux", 2) << "\n";
    auto g = NixGraph::chain(3);
    auto drvs = g.derivations();
    int js = rows_->jobset();
    std::string top = g.nodes().back().name;
    auto id = rows_->queueBuild(js, top, drvs.at(top).drvPath, drvs.at(top).out());
    startRunner(machines);
    waitForFinished({id});
    EXPECT_EQ(buildStatus(id), 0) << runnerLog();
    EXPECT_EQ(query1<std::string>("SELECT string_agg(DISTINCT machine, ',') FROM BuildSteps"),
              host.storeUri());
    EXPECT_TRUE(validLocally(drvs.at(top).out()));
    auto verify = run({.argv = {"nix-store", "--verify-path", drvs.at(top).out()}, .setEnv = nixTestEnv()});
    EXPECT_TRUE(exitedOk(verify.status)) << verify.err;
}

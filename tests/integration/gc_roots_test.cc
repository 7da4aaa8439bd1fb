// `hydra gc-roots` and hydra-queue-runner's periodic pass keep GC roots only for what builds
// still need, as Hydra's hydra-update-gc-roots does, checked against Nix's own garbage collector.

#include "db/schema.hh"
#include "harness/nix_graph.hh"
#include "harness/pg_fixture.hh"
#include "harness/queue_runner_fixture.hh"
#include "nix/gc_roots.hh"
#include "util/process.hh"

#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <gtest/gtest.h>
#include <random>
#include <set>
#include <thread>

using namespace std::chrono_literals;

namespace hydra::test {
namespace {

class GcRootsTest : public QueueRunnerFixture {
protected:
    void SetUp() override
    {
        QueueRunnerFixture::SetUp();
        std::random_device rd;
        nonce_ = fmt::format("{:08x}{:08x}", rd(), rd());
        // Under Nix's own roots directory, as the default is: Nix's collector looks nowhere else.
        rootsDir_ = "/nix/var/nix/gcroots/per-user/hydra-test-" + nonce_;
        std::ofstream(state_ + "/hydra.conf", std::ios::trunc)
            << "gc_roots_dir = " << rootsDir_ << "\nmax_db_connections = 8\n";
    }

    void TearDown() override
    {
        QueueRunnerFixture::TearDown();
        std::filesystem::remove_all(rootsDir_);
    }

    // A new valid store path holding a text file named `name`.
    std::string addToStore(const std::string& name)
    {
        auto dir = makeTempDir("hydra-gc-src");
        std::ofstream(dir + "/" + name) << nonce_ << " " << name << "\n";
        auto out = runChecked({.argv = {"nix-store", "--add", dir + "/" + name}, .setEnv = nixTestEnv()});
        std::filesystem::remove_all(dir);
        return out.substr(0, out.find('\n'));
    }

    std::set<std::string> roots()
    {
        std::set<std::string> out;
        for (const auto& e : nix::GcRoots(rootsDir_).list()) out.insert("/nix/store/" + e.baseName);
        return out;
    }

    RunResult gcRoots(const std::vector<std::string>& extra = {})
    {
        std::vector<std::string> argv = {std::string(HYDRA_BINARY_DIR) + "/bin/hydra", "gc-roots"};
        argv.insert(argv.end(), extra.begin(), extra.end());
        return run({.argv = argv, .setEnv = runnerEnv(), .unsetEnv = {"HYDRA_DATABASE_URL"}});
    }

    // Which of `paths` Nix's garbage collector would delete now.
    std::set<std::string> deadAmong(const std::set<std::string>& paths)
    {
        auto dead = runChecked({.argv = {"nix-store", "--gc", "--print-dead"}, .setEnv = nixTestEnv()});
        std::set<std::string> out;
        for (const auto& p : paths)
            if (dead.find(p + "\n") != std::string::npos) out.insert(p);
        return out;
    }

    // A jobset keeping one evaluation: an old one and a new one, a kept build, a queued build.
    struct Paths {
        std::string oldEval, newEval, kept, queuedDrv, unrelated;
    };
    Paths farm()
    {
        Paths p{addToStore("old-out"), addToStore("new-out"), addToStore("kept-out"),
                addToStore("queued-drv"), addToStore("unrelated")};
        int js = rows_->jobset("js");
        exec(fmt::format("UPDATE Jobsets SET keepnr = 1 WHERE id = {}", js));
        auto finished = [&](const std::string& job, const std::string& out, int keep) {
            pqxx::work t(*conn_);
            auto id = t.exec1(fmt::format("WITH b AS (INSERT INTO Builds (finished, timestamp, "
                                          "jobset_id, job, drvPath, system, startTime, "
                                          "stopTime, buildStatus, keep) VALUES (1, 1, {}, '{}', "
                                          "'/nix/store/x-{}.drv', 'x86_64-linux', 1, 2, "
                                          "0, {}) RETURNING id) INSERT INTO BuildOutputs (build, "
                                          "name, path) SELECT id, 'out', '{}' FROM b "
                                          "RETURNING build",
                                          js, job, job, keep, out))[0]
                          .as<long long>();
            t.commit();
            return id;
        };
        auto evalOf = [&](long long build) {
            exec(fmt::format(
                "WITH e AS (INSERT INTO JobsetEvals (jobset_id, timestamp, checkoutTime, evalTime, "
                "hasNewBuilds, hash) VALUES ({}, 1, 0, 0, 1, 'h') RETURNING id) "
                "INSERT INTO JobsetEvalMembers (eval, build, isNew) SELECT id, {}, 1 FROM e",
                js, build));
        };
        evalOf(finished("a", p.oldEval, 0));
        evalOf(finished("b", p.newEval, 0));
        finished("c", p.kept, 1);
        rows_->queueBuild(js, "d", p.queuedDrv, "/nix/store/00000000000000000000000000000000-d");
        nix::GcRoots r(rootsDir_);
        for (const auto& path : {p.oldEval, p.newEval, p.kept, p.queuedDrv, p.unrelated}) r.add(path);
        return p;
    }

    std::string rootsDir_, nonce_;
};

TEST_F(GcRootsTest, OnlyWhatBuildsNeedKeepsItsRootAndNixCollectsTheRest)
{
    auto p = farm();
    auto r = gcRoots({"--grace", "0"});
    ASSERT_TRUE(exitedOk(r.status)) << r.out << r.err;
    EXPECT_NE(r.out.find("kept 3, removed 2"), std::string::npos) << r.out;
    EXPECT_EQ(roots(), (std::set<std::string>{p.newEval, p.kept, p.queuedDrv}));
    std::set<std::string> all{p.oldEval, p.newEval, p.kept, p.queuedDrv, p.unrelated};
    EXPECT_EQ(deadAmong(all), (std::set<std::string>{p.oldEval, p.unrelated}));
    runChecked({.argv = {"nix-store", "--delete", p.oldEval, p.unrelated}, .setEnv = nixTestEnv()});
    EXPECT_FALSE(validLocally(p.oldEval));
    EXPECT_TRUE(validLocally(p.newEval));

    // A build marked keep later gets its root back; the root of a finished queued build goes
    // once nothing needs it.
    exec(fmt::format("UPDATE Builds SET keep = 1 WHERE job = 'b'"));
    nix::GcRoots(rootsDir_).remove(std::filesystem::path(p.newEval).filename().string());
    r = gcRoots({"--grace", "0"});
    EXPECT_NE(r.out.find("added 1"), std::string::npos) << r.out;
    EXPECT_EQ(roots().count(p.newEval), 1U);
}

TEST_F(GcRootsTest, YoungRootsOfAnEvaluationStillRunningAreSpared)
{
    auto p = farm();
    auto r = gcRoots(); // default grace: the evaluator's timeout and an hour
    ASSERT_TRUE(exitedOk(r.status)) << r.out << r.err;
    EXPECT_EQ(roots().size(), 5U) << r.out;
}

TEST_F(GcRootsTest, TheQueueRunnerPrunesPeriodically)
{
    auto p = farm();
    // Made two days ago: older than the grace.
    for (const auto& path : {p.oldEval, p.unrelated})
        runChecked({.argv = {"touch", "-h", "-d", "2 days ago",
                             rootsDir_ + "/" + std::filesystem::path(path).filename().string()}});
    // Nothing for the runner to build; the queued build's root is young, so it stays.
    exec("UPDATE Builds SET finished = 1, buildStatus = 4, startTime = 1, stopTime = 2 WHERE job = 'd'");
    addConfig("gc_roots_interval = 1");
    startRunner();
    for (auto deadline = std::chrono::steady_clock::now() + 60s;
         roots().size() != 3 && std::chrono::steady_clock::now() < deadline;)
        std::this_thread::sleep_for(100ms);
    EXPECT_EQ(roots(), (std::set<std::string>{p.newEval, p.kept, p.queuedDrv})) << runnerLog();
    EXPECT_NE(runnerLog().find("GC roots in"), std::string::npos) << runnerLog();
}

} // namespace
} // namespace hydra::test

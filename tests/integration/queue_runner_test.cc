// hydra-queue-runner end to end: the real binary, PostgreSQL, the local Nix store and ssh hosts.

#include "harness/build_host.hh"
#include "harness/nix_graph.hh"
#include "harness/queue_runner_fixture.hh"
#include "util/fd.hh"

#include <algorithm>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <map>
#include <set>
#include <sstream>
#include <sys/file.h>
#include <sys/stat.h>
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

/// Each process's parent and command name, from /proc.
std::map<pid_t, std::pair<pid_t, std::string>> processTable()
{
    std::map<pid_t, std::pair<pid_t, std::string>> table;
    for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
        auto name = entry.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        std::ifstream in(entry.path() / "stat");
        std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        auto open = stat.find('('), close = stat.rfind(')');
        if (open == std::string::npos || close == std::string::npos) continue; // it just ended
        std::istringstream rest(stat.substr(close + 2));
        char state = 0;
        pid_t parent = 0;
        rest >> state >> parent;
        table[std::stoi(name)] = {parent, stat.substr(open + 1, close - open - 1)};
    }
    return table;
}

/// `root` and every process below it.
std::set<pid_t> processTree(pid_t root)
{
    auto table = processTable();
    std::set<pid_t> tree{root};
    for (bool grew = true; grew;) {
        grew = false;
        for (const auto& [pid, info] : table)
            if (tree.contains(info.first) && tree.insert(pid).second) grew = true;
    }
    return tree;
}

/// The nix-store processes below `root`.
std::vector<pid_t> nixStoresBelow(pid_t root)
{
    auto table = processTable();
    std::vector<pid_t> found;
    for (auto pid : processTree(root))
        if (pid != root && table.contains(pid) && table.at(pid).second == "nix-store") found.push_back(pid);
    return found;
}

/// The processes holding a flock(2) on `file`, from /proc/locks (which names files by inode).
std::set<pid_t> lockHolders(const std::string& file)
{
    struct stat st {};
    if (::stat(file.c_str(), &st) != 0) return {};
    auto suffix = ":" + std::to_string(st.st_ino);
    std::set<pid_t> holders;
    std::ifstream in("/proc/locks");
    for (std::string line; std::getline(in, line);) {
        std::istringstream fields(line);
        std::string nr, kind, mode, access, pid, id;
        fields >> nr >> kind >> mode >> access >> pid >> id;
        if (access == "->") continue; // a waiter, listed after the lock it waits for
        if (id.ends_with(suffix)) holders.insert(std::stoi(pid));
    }
    return holders;
}

/// Whether an exclusive flock(2) on `file`, as a Nix schema upgrade takes on the store's big
/// lock, was had (and let go at once) within `limit`.
bool lockedExclusively(const std::string& file, std::chrono::seconds limit)
{
    AutoFd fd(::open(file.c_str(), O_RDWR | O_CLOEXEC));
    if (!fd) return false;
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(50ms);
    }
    ::flock(fd.get(), LOCK_UN);
    return true;
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
    // build_started: once per build, when its own derivation starts building, after its
    // dependencies were built (as Hydra sends it), not when the first of them starts.
    auto started = payloads("build_started");
    std::sort(started.begin(), started.end());
    std::vector<std::string> want;
    for (auto id : ids) want.push_back(std::to_string(id));
    std::sort(want.begin(), want.end());
    EXPECT_EQ(started, want);
    {
        auto notes = notifications_.lock();
        auto first = [&](const char* channel) {
            return std::find_if(notes->begin(), notes->end(),
                                [&](const auto& n) { return n.first == channel; });
        };
        EXPECT_LT(first("step_finished") - notes->begin(), first("build_started") - notes->begin());
    }
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

TEST_F(QueueRunnerTest, FailedStepsSayWhatNixSaidLocallyAndOnABuildHost)
{
    NixGraph g;
    g.add("badHere").script = scripts::failing(3);
    g.add("badThere").script = scripts::failing(4);
    auto drvs = g.derivations();
    int js = rows_->jobset();
    auto errorOf = [&](long long id) {
        return query1<std::string>("SELECT coalesce(errorMsg, '') FROM BuildSteps WHERE build = " +
                                   std::to_string(id));
    };

    auto here = rows_->queueBuild(js, "badHere", drvs.at("badHere").drvPath, drvs.at("badHere").out());
    startRunner();
    waitForFinished({here});
    EXPECT_EQ(buildStatus(here), 1);
    auto msg = errorOf(here);
    EXPECT_NE(msg.find("builder for '" + drvs.at("badHere").drvPath + "' failed with exit code 3"),
              std::string::npos)
        << msg;
    EXPECT_NE(runnerLog().find("failed (failed): builder for '" + drvs.at("badHere").drvPath),
              std::string::npos)
        << runnerLog();
    EXPECT_EQ(stopRunner(), 0);

    BuildHost host;
    auto machines = state_ + "/machines";
    std::ofstream(machines) << host.machinesLine("x86_64-linux") << "\n";
    auto there = rows_->queueBuild(js, "badThere", drvs.at("badThere").drvPath, drvs.at("badThere").out());
    startRunner(machines);
    waitForFinished({there});
    EXPECT_EQ(buildStatus(there), 1);
    EXPECT_EQ(query1<std::string>("SELECT machine FROM BuildSteps WHERE build = " + std::to_string(there)),
              host.storeUri());
    msg = errorOf(there);
    EXPECT_NE(msg.find("failed with exit code 4"), std::string::npos) << msg;
}

// An open nix-store holds the store's big lock (shared), which a Nix schema upgrade or the first
// use of content-addressed derivations needs to itself: an idle runner must hold none.
TEST_F(QueueRunnerTest, IdleRunnerEndsItsNixStoresAndLeavesTheStoreLockFree)
{
    addConfig("session_max_idle = 1\n");
    NixGraph g;
    g.add("base");
    g.add("top", {"base"});
    auto drvs = g.derivations();
    auto id = rows_->queueBuild(rows_->jobset(), "top", drvs.at("top").drvPath, drvs.at("top").out());
    startRunner();
    waitForFinished({id});
    ASSERT_EQ(buildStatus(id), 0) << runnerLog();

    auto deadline = std::chrono::steady_clock::now() + 60s;
    while (!nixStoresBelow(runner_.pid()).empty()) {
        ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "a nix-store stays open\n" << runnerLog();
        std::this_thread::sleep_for(200ms);
    }

    const std::string bigLock = "/nix/var/nix/db/big-lock";
    if (!lockedExclusively(bigLock, 60s)) {
        auto ours = processTree(runner_.pid());
        auto holders = lockHolders(bigLock);
        for (auto pid : holders) EXPECT_FALSE(ours.contains(pid)) << "the runner's process " << pid;
        // Other users of this machine's store (other tests) may hold it too: not ours to judge.
        if (!HasFailure())
            GTEST_SKIP() << "the big lock stayed held by " << holders.size() << " other processes";
    }
    EXPECT_TRUE(runner_.running());
    EXPECT_EQ(stopRunner(), 0);
}

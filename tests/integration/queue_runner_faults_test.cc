// hydra-queue-runner under faults: build hosts dying or cut off, misconfigured hosts, PostgreSQL
// restarting, the runner itself killed. Every build must end with the right status and no step
// may stay busy.

#include "harness/build_host.hh"
#include "harness/nix_graph.hh"
#include "harness/pg_fixture.hh"
#include "harness/queue_runner_fixture.hh"

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

using namespace hydra;
using namespace hydra::test;
using namespace std::chrono_literals;

namespace {

constexpr int success = 0, aborted = 3;

/// A machines file line for `host` with another speed factor and/or host key.
std::string editedLine(const BuildHost& host, int speed, const std::string& hostKey = "")
{
    std::istringstream in(host.machinesLine("x86_64-linux"));
    std::vector<std::string> f;
    for (std::string w; in >> w;) f.push_back(w);
    f.at(4) = std::to_string(speed);
    if (!hostKey.empty()) f.at(7) = hostKey;
    std::string line;
    for (const auto& w : f) line += (line.empty() ? "" : " ") + w;
    return line;
}

const std::string localhostLine = "localhost x86_64-linux - 2 1 - - -";

class QueueRunnerFaultsTest : public QueueRunnerFixture {
protected:
    std::string machinesFile() const { return state_ + "/machines"; }
    void writeMachines(const std::vector<std::string>& lines)
    {
        // Written aside and renamed: the runner never reads half a file.
        std::string tmp = machinesFile() + ".new";
        {
            std::ofstream f(tmp);
            for (const auto& l : lines) f << l << "\n";
        }
        std::filesystem::rename(tmp, machinesFile());
    }

    /// ssh with short keep-alives and connect timeout placed first on its command line (ssh takes
    /// the first value of an option), so that a silent, cut link is noticed in seconds instead of
    /// the production two minutes. The runner's code path is unchanged.
    std::map<std::string, std::string> quickSshEnv()
    {
        auto dir = state_ + "/bin";
        std::filesystem::create_directories(dir);
        {
            std::ofstream f(dir + "/ssh");
            f << "#!/bin/sh\nexec /usr/bin/ssh -o ServerAliveInterval=1 -o ServerAliveCountMax=3 "
                 "-o ConnectTimeout=5 \"$@\"\n";
        }
        std::filesystem::permissions(dir + "/ssh", std::filesystem::perms::owner_all);
        const char* path = std::getenv("PATH"); // NOLINT(concurrency-mt-unsafe)
        return {{"PATH", dir + ":" + (path ? path : "/usr/bin:/bin")}};
    }

    long long queueNode(const std::map<std::string, NixDrv>& drvs, const std::string& name)
    {
        if (!jobset_) jobset_ = rows_->jobset();
        return rows_->queueBuild(jobset_, name, drvs.at(name).drvPath, drvs.at(name).out());
    }

    void waitForBusySteps(long long atLeast, std::chrono::seconds limit = 90s)
    {
        auto deadline = std::chrono::steady_clock::now() + limit;
        while (query1<long long>("SELECT count(*) FROM BuildSteps WHERE busy = 30") < atLeast) {
            ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "no step building; log:\n"
                                                                  << runnerLog();
            std::this_thread::sleep_for(100ms);
        }
    }

    /// The build succeeds on `good`, and the log names `bad` with what went wrong there.
    void expectBuiltOnAfterNaming(long long id, const BuildHost& good, const BuildHost& bad,
                                  const std::string& why)
    {
        waitForFinished({id}, 120s);
        EXPECT_EQ(buildStatus(id), success) << runnerLog();
        EXPECT_EQ(query1<std::string>("SELECT machine FROM BuildSteps WHERE status = 0"), good.storeUri())
            << runnerLog();
        auto log = runnerLog();
        EXPECT_NE(log.find(bad.storeUri()), std::string::npos) << log;
        EXPECT_NE(log.find(why), std::string::npos) << log;
        expectNothingBusy();
    }

    void expectNothingBusy()
    {
        EXPECT_EQ(query1<long long>("SELECT count(*) FROM BuildSteps WHERE busy != 0"), 0) << runnerLog();
        EXPECT_EQ(query1<long long>("SELECT count(*) FROM Builds WHERE finished = 0"), 0) << runnerLog();
        // The runner's own view: its step threads end (and release their slots) soon after.
        auto deadline = std::chrono::steady_clock::now() + 20s;
        for (;;) {
            auto s = status();
            bool idle = s.value("nrActiveSteps", -1) == 0;
            auto machines = s.value("machines", nlohmann::json::object());
            for (const auto& m : machines) idle = idle && m.value("currentJobs", -1) == 0;
            if (idle) break;
            ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "still busy: " << s.dump();
            std::this_thread::sleep_for(200ms);
        }
    }

    /// The runner's status document (hydra-queue-runner --status).
    nlohmann::json status()
    {
        auto env = runnerEnv();
        auto r = run({.argv = {queueRunnerBinary(), "--status"}, .setEnv = env});
        EXPECT_TRUE(exitedOk(r.status)) << r.err;
        auto j = nlohmann::json::parse(r.out, nullptr, false);
        EXPECT_TRUE(j.is_object()) << "hydra-queue-runner --status printed: " << r.out << r.err;
        return j.is_object() ? j : nlohmann::json::object();
    }

    int jobset_ = 0;
};

} // namespace

TEST_F(QueueRunnerFaultsTest, HostKilledMidBuildStepIsRetriedOnLocalhostAndHostDisabled)
{
    BuildHost host;
    NixGraph g;
    g.add("slow").script = scripts::sleeping(10);
    auto drvs = g.derivations();
    auto id = queueNode(drvs, "slow");
    // Only the host at first, so the step surely starts there.
    writeMachines({host.machinesLine("x86_64-linux", 1)});
    startRunner(machinesFile());
    waitForBusySteps(1);
    ASSERT_EQ(query1<std::string>("SELECT machine FROM BuildSteps WHERE busy = 30"), host.storeUri());
    writeMachines({host.machinesLine("x86_64-linux", 1), localhostLine});
    host.teardown();

    waitForFinished({id}, 120s);
    EXPECT_EQ(buildStatus(id), success) << runnerLog();
    EXPECT_TRUE(validLocally(drvs.at("slow").out()));
    EXPECT_EQ(query1<int>("SELECT status FROM BuildSteps WHERE stepnr = 1"), aborted);
    EXPECT_EQ(query1<std::string>("SELECT machine FROM BuildSteps WHERE status = 0"), "localhost");
    expectNothingBusy();
    auto s = status();
    ASSERT_TRUE(s.contains("machines")) << s.dump();
    auto dead = s["machines"][host.storeUri()];
    EXPECT_GE(dead.value("consecutiveFailures", 0), 1) << s.dump();
    EXPECT_GT(dead.value("disabledUntil", 0LL), 0) << s.dump();
}

TEST_F(QueueRunnerFaultsTest, LinkCutMidBuildOnTheOnlyHostAbortsAfterTheRetries)
{
    BuildHost host(HostNetwork::OwnNetns);
    addConfig("max_tries = 2\nretry_backoff = 1");
    NixGraph g;
    g.add("slow").script = scripts::sleeping(20);
    auto drvs = g.derivations();
    auto id = queueNode(drvs, "slow");
    writeMachines({host.machinesLine("x86_64-linux", 1)});
    startRunner(machinesFile(), quickSshEnv());
    waitForBusySteps(1);
    host.cutLink();

    waitForFinished({id}, 150s);
    EXPECT_EQ(buildStatus(id), aborted) << runnerLog();
    // Both tries are recorded, both aborted, none left busy.
    EXPECT_EQ(query1<long long>("SELECT count(*) FROM BuildSteps WHERE status = 3 AND stopTime IS NOT NULL"),
              2)
        << runnerLog();
    expectNothingBusy();
    EXPECT_EQ(query1<long long>("SELECT count(*) FROM FailedPaths"), 0) << "an abort is not a cached failure";
    host.restoreLink();
}

TEST_F(QueueRunnerFaultsTest, LinkCutMidBuildFailsOverToLocalhost)
{
    BuildHost host(HostNetwork::OwnNetns);
    NixGraph g;
    g.add("slow").script = scripts::sleeping(10);
    auto drvs = g.derivations();
    auto id = queueNode(drvs, "slow");
    writeMachines({host.machinesLine("x86_64-linux", 1)});
    startRunner(machinesFile(), quickSshEnv());
    waitForBusySteps(1);
    writeMachines({host.machinesLine("x86_64-linux", 1), localhostLine});
    host.cutLink();

    waitForFinished({id}, 120s);
    EXPECT_EQ(buildStatus(id), success) << runnerLog();
    EXPECT_EQ(query1<std::string>("SELECT machine FROM BuildSteps WHERE stepnr = 1"), host.storeUri());
    EXPECT_EQ(query1<int>("SELECT status FROM BuildSteps WHERE stepnr = 1"), aborted);
    EXPECT_EQ(query1<std::string>("SELECT machine FROM BuildSteps WHERE status = 0"), "localhost");
    expectNothingBusy();
    host.restoreLink();
}

TEST_F(QueueRunnerFaultsTest, HostWithWrongHostKeyIsNamedAndTheBuildRunsOnTheWorkingMachine)
{
    BuildHost good, impostor;
    NixGraph g;
    g.add("one");
    auto drvs = g.derivations();
    auto id = queueNode(drvs, "one");
    // The faster machine, so the scheduler tries it first; it presents a key nobody pinned.
    writeMachines({editedLine(impostor, 10, good.publicHostKeyBase64()), editedLine(good, 1)});
    startRunner(machinesFile());

    expectBuiltOnAfterNaming(id, good, impostor, "Host key verification failed");
}

TEST_F(QueueRunnerFaultsTest, HostWithoutNixStoreIsNamedAndTheBuildRunsOnTheWorkingMachine)
{
    BuildHost good, broken;
    // Inside the broken host's own mount namespace only (checked first: never the machine's
    // /usr/bin), /usr/bin becomes a copy made of symlinks that lacks nix-store.
    auto bins = (broken.dir() / "bins").string();
    broken.runChecked(fmt::format("set -e; [ \"$(readlink /proc/self/ns/mnt)\" = '{0}' ]; "
                                  "mkdir -p {1}/real {1}/fake; mount --bind /usr/bin {1}/real; "
                                  "cp -as {1}/real/. {1}/fake/; rm {1}/fake/nix-store; "
                                  "mount --bind {1}/fake /usr/bin",
                                  broken.mountNamespace(), bins));
    ASSERT_FALSE(exitedOk(broken.run("command -v nix-store").status));
    NixGraph g;
    g.add("one");
    auto drvs = g.derivations();
    auto id = queueNode(drvs, "one");
    writeMachines({editedLine(broken, 10), editedLine(good, 1)});
    startRunner(machinesFile());

    expectBuiltOnAfterNaming(id, good, broken, "nix-store: command not found");
}

TEST_F(QueueRunnerFaultsTest, PostgresRestartMidRunEveryBuildStillFinishes)
{
    NixGraph g;
    g.add("a").script = scripts::sleeping(4);
    g.add("b").script = scripts::sleeping(4);
    g.add("top", {"a", "b"});
    g.add("bad").script = scripts::failing(2);
    auto drvs = g.derivations();
    auto top = queueNode(drvs, "top");
    auto bad = queueNode(drvs, "bad");
    startRunner();
    waitForBusySteps(1);

    conn_.reset(); // our own connection would not survive the restart
    PgCluster::get().cluster().restart();
    conn_ = std::make_unique<pqxx::connection>(conninfo_);
    rows_ = std::make_unique<HydraRows>(*conn_); // it wrote through the old connection

    waitForFinished({top, bad}, 120s);
    EXPECT_EQ(buildStatus(top), success) << runnerLog();
    EXPECT_EQ(buildStatus(bad), 1) << runnerLog();
    EXPECT_TRUE(validLocally(drvs.at("top").out()));
    expectNothingBusy();
    // A build queued after the restart is seen: the listener came back.
    NixGraph later;
    later.add("later");
    auto ldrvs = later.derivations();
    auto lid = queueNode(ldrvs, "later");
    rows_->announceAdded(lid);
    waitForFinished({lid}, 25s); // before the monitor's periodic look
    EXPECT_EQ(buildStatus(lid), success) << runnerLog();
}

TEST_F(QueueRunnerFaultsTest, KilledRunnerLeavesABusyStepThatTheRestartAbortsAndBuildsAgain)
{
    NixGraph g;
    g.add("slow").script = scripts::sleeping(5);
    auto drvs = g.derivations();
    auto id = queueNode(drvs, "slow");
    startRunner();
    waitForBusySteps(1);
    runner_.kill();
    EXPECT_EQ(query1<long long>("SELECT count(*) FROM BuildSteps WHERE busy != 0"), 1);

    startRunner();
    waitForFinished({id}, 90s);
    EXPECT_EQ(buildStatus(id), success) << runnerLog();
    EXPECT_EQ(query1<int>("SELECT status FROM BuildSteps WHERE stepnr = 1"), aborted);
    EXPECT_EQ(query1<long long>("SELECT count(*) FROM BuildSteps WHERE status = 0"), 1);
    EXPECT_NE(runnerLog().find("left busy"), std::string::npos) << runnerLog();
    expectNothingBusy();
}

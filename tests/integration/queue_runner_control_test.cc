// hydra-queue-runner under control of the database and the operator: cancel and bump take effect
// while running, unsupported systems fail, --status answers; the real binary and real parts.

#include "harness/build_host.hh"
#include "harness/nix_graph.hh"
#include "harness/pg_fixture.hh"
#include "harness/queue_runner_fixture.hh"
#include "harness/sandbox_shell.hh"

#include <cerrno>
#include <csignal>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

using namespace hydra;
using namespace hydra::test;
using namespace std::chrono_literals;

namespace {

/// The fixture, plus cancelling as Hydra's web interface does it.
class QueueRunnerControlTest : public QueueRunnerFixture {
protected:
    void cancelBuild(long long id)
    {
        exec(
            "UPDATE Builds SET finished = 1, buildStatus = 4, startTime = extract(epoch from now())::bigint, "
            "stopTime = extract(epoch from now())::bigint WHERE id = " +
            std::to_string(id));
    }

    /// The builder process must end within 30 s of the cancel.
    void waitUntilGone(pid_t builder);

    /// The builds of the steps started, in the order step_started announced them.
    std::vector<long long> startedBuilds()
    {
        std::vector<long long> started;
        for (auto& p : payloads("step_started")) started.push_back(std::stoll(p.substr(0, p.find('\t'))));
        return started;
    }

    /// A build of `job` that finished an hour ago after one step of `seconds`, as a runner
    /// before this one recorded it.
    void finishedEarlier(int jobset, const std::string& job, long long seconds)
    {
        std::string drv = "/nix/store/" + std::string(32, '0') + "-" + job + ".drv";
        auto id = std::to_string(
            rows_->queueBuild(jobset, job, drv, "/nix/store/" + std::string(32, '0') + "-" + job));
        std::string stop = "extract(epoch from now())::bigint - 3600";
        std::string start = stop + " - " + std::to_string(seconds);
        exec("UPDATE Builds SET finished = 1, buildStatus = 0, startTime = " + start +
             ", stopTime = " + stop + " WHERE id = " + id);
        exec("INSERT INTO BuildSteps (build, stepnr, type, drvPath, busy, status, startTime, stopTime) "
             "VALUES (" +
             id + ", 1, 0, '" + drv + "', 0, 0, " + start + ", " + stop + ")");
    }
};

/// Whether process `pid` still exists (a zombie counts as gone: it no longer runs).
bool processAlive(pid_t pid)
{
    if (::kill(pid, 0) != 0) return errno != ESRCH;
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    std::getline(stat, line);
    auto close = line.rfind(')');
    return close == std::string::npos || close + 2 >= line.size() || line[close + 2] != 'Z';
}

/// A builder that sleeps for a minute. The sandbox hides the test's files and gives the build
/// its own pid namespace, so the test finds the builder by `marker` in its command line instead.
std::string markedSleeper(const std::string& marker)
{
    return ": " + marker + "; sleep 60; echo > \"$out\"";
}

/// The builder's pid (waits up to 30 s for it to start).
pid_t builderPid(const std::string& marker)
{
    return processWithCommandLine(marker, 30s);
}

/// A derivation for `system`, written by hand (NixGraph derivations are for this machine).
NixDrv foreignDerivation(const std::string& system, const std::string& dir)
{
    NixGraph nonceSource;
    std::string expr = "derivation { name = \"foreign\"; system = " + nixStringLiteral(system) +
                       "; builder = " + shellBuilder() + "; args = [ \"-c\" \"echo > $out\" ]; nonce = " +
                       nixStringLiteral(nonceSource.nonce()) + "; }";
    std::ofstream(dir + "/foreign.nix") << expr << "\n";
    auto inst = run({.argv = {"nix-instantiate", dir + "/foreign.nix"}, .setEnv = nixTestEnv()});
    EXPECT_TRUE(exitedOk(inst.status)) << inst.err;
    NixDrv d{.drvPath = inst.out.substr(0, inst.out.find('\n'))};
    auto q = run({.argv = {"nix-store", "--query", "--outputs", d.drvPath}, .setEnv = nixTestEnv()});
    EXPECT_TRUE(exitedOk(q.status)) << q.err;
    d.outputs["out"] = q.out.substr(0, q.out.find('\n'));
    return d;
}

void QueueRunnerControlTest::waitUntilGone(pid_t builder)
{
    auto deadline = std::chrono::steady_clock::now() + 30s;
    while (processAlive(builder)) {
        ASSERT_LT(std::chrono::steady_clock::now(), deadline)
            << "builder " << builder << " still runs after the cancel; runner log:\n"
            << runnerLog();
        std::this_thread::sleep_for(100ms);
    }
}

} // namespace

TEST_F(QueueRunnerControlTest, CancellingARunningBuildStopsItsBuilderAndLeavesNothingBusy)
{
    NixGraph g;
    auto marker = "sleeper-" + g.nonce();
    g.add("long").script = markedSleeper(marker);
    auto drvs = g.derivations();
    int js = rows_->jobset();
    auto id = rows_->queueBuild(js, "long", drvs.at("long").drvPath, drvs.at("long").out());
    startRunner();
    waitForCount("SELECT count(*) FROM BuildSteps WHERE busy = 30 AND build = " + std::to_string(id), 1);
    pid_t builder = builderPid(marker);
    ASSERT_NE(builder, 0) << "no builder runs";
    ASSERT_TRUE(processAlive(builder));

    // What Hydra's web interface does to cancel a build.
    cancelBuild(id);
    ASSERT_NO_FATAL_FAILURE(waitUntilGone(builder));
    waitForCount("SELECT count(*) FROM BuildSteps WHERE busy != 0 OR stopTime IS NULL", 0, 30s);
    // Hydra marks a step stopped because no build needs it any more as cancelled (4), not aborted.
    EXPECT_EQ(query1<int>("SELECT status FROM BuildSteps WHERE build = " + std::to_string(id)), 4)
        << runnerLog();
    EXPECT_EQ(buildStatus(id), 4) << "the runner must not overwrite the cancellation";
    EXPECT_FALSE(validLocally(drvs.at("long").out()));
    EXPECT_EQ(stopRunner(), 0);
}

TEST_F(QueueRunnerControlTest, BumpedBuildIsTheNextOneBuiltOnASingleSlot)
{
    NixGraph g;
    g.add("blocker").script = scripts::sleeping(5);
    // Every build a chain of two, so that only the bump can put c (the highest id) first: a
    // longer critical path would too.
    for (std::string name : {"a", "b", "c"}) g.add(name + "dep");
    g.add("a", {"adep"});
    g.add("b", {"bdep"});
    g.add("c", {"cdep"}); // the bump must raise every step of the build, not only the top one
    auto drvs = g.derivations();
    int js = rows_->jobset();
    // Above the others from the start: the runner may see all four builds before its first
    // round (a slow start), and then the queue's order alone must put the blocker first.
    auto blocker = rows_->queueBuild(js, "blocker", drvs.at("blocker").drvPath, drvs.at("blocker").out(), 5);
    std::map<std::string, long long> ids;
    for (auto name : {"a", "b", "c"})
        ids[name] = rows_->queueBuild(js, name, drvs.at(name).drvPath, drvs.at(name).out());
    startRunner("", {{"NIX_CONFIG", "substituters =\nmax-jobs = 1"}});
    waitForCount("SELECT count(*) FROM BuildSteps WHERE busy = 30 AND build = " + std::to_string(blocker), 1);
    exec("UPDATE Builds SET globalPriority = 10 WHERE id = " + std::to_string(ids["c"]));
    waitForFinished({blocker, ids["a"], ids["b"], ids["c"]}, 120s);
    for (auto& [name, id] : ids) EXPECT_EQ(buildStatus(id), 0) << name;

    auto started = startedBuilds();
    ASSERT_EQ(started.size(), 7u) << runnerLog();
    EXPECT_EQ(started[0], blocker);
    EXPECT_EQ(started[1], ids["c"]) << "the bumped build's dependency is built right after the running step";
    EXPECT_EQ(started[2], ids["c"]) << "then the bumped build itself";
    EXPECT_LE(
        query1<long long>("SELECT max(startTime) FROM BuildSteps WHERE build = " + std::to_string(ids["c"])),
        query1<long long>("SELECT min(startTime) FROM BuildSteps WHERE build IN (" +
                          std::to_string(ids["a"]) + "," + std::to_string(ids["b"]) + ")"));
    // One slot: never two steps at once.
    EXPECT_EQ(
        query1<long long>("SELECT count(*) FROM BuildSteps s1 JOIN BuildSteps s2 ON s1.build < s2.build "
                          "AND s1.startTime < s2.stopTime AND s2.startTime < s1.stopTime"),
        0);
}

TEST_F(QueueRunnerControlTest, AfterARestartAJobsetThatUsedMuchTimeYieldsToOneThatUsedNone)
{
    int busy = rows_->jobset("busy");
    int idle = rows_->jobset("idle");
    finishedEarlier(busy, "earlier", 3 * 3600LL);
    NixGraph g;
    g.add("blocker").script = scripts::sleeping(5);
    g.add("frombusy");
    g.add("fromidle");
    auto drvs = g.derivations();
    // First whatever else happens, so that both others are queued when the slot is free.
    auto blocker =
        rows_->queueBuild(idle, "blocker", drvs.at("blocker").drvPath, drvs.at("blocker").out(), 10);
    auto fromBusy =
        rows_->queueBuild(busy, "frombusy", drvs.at("frombusy").drvPath, drvs.at("frombusy").out());
    auto fromIdle =
        rows_->queueBuild(idle, "fromidle", drvs.at("fromidle").drvPath, drvs.at("fromidle").out());
    startRunner("", {{"NIX_CONFIG", "substituters =\nmax-jobs = 1"}});
    waitForFinished({blocker, fromBusy, fromIdle}, 120s);
    // The blocker's jobset has used its few seconds by then: still far below three hours.
    EXPECT_EQ(startedBuilds(), (std::vector<long long>{blocker, fromIdle, fromBusy})) << runnerLog();
}

TEST_F(QueueRunnerControlTest, AfterARestartAJobThatTookLongLastTimeIsStartedFirst)
{
    int js = rows_->jobset();
    finishedEarlier(js, "long", 3600);
    NixGraph g;
    g.add("blocker").script = scripts::sleeping(5);
    g.add("short");
    g.add("long");
    auto drvs = g.derivations();
    auto blocker = rows_->queueBuild(js, "blocker", drvs.at("blocker").drvPath, drvs.at("blocker").out(), 10);
    auto shortId = rows_->queueBuild(js, "short", drvs.at("short").drvPath, drvs.at("short").out());
    auto longId = rows_->queueBuild(js, "long", drvs.at("long").drvPath, drvs.at("long").out());
    startRunner("", {{"NIX_CONFIG", "substituters =\nmax-jobs = 1"}});
    waitForFinished({blocker, shortId, longId}, 120s);
    // Same jobset, same priorities: the longer critical path goes first despite its higher id.
    EXPECT_EQ(startedBuilds(), (std::vector<long long>{blocker, longId, shortId})) << runnerLog();
}

TEST_F(QueueRunnerControlTest, StepForASystemNoMachineSupportsFailsAsUnsupported)
{
    auto d = foreignDerivation("aarch64-linux", state_);
    int js = rows_->jobset();
    auto id = rows_->queueBuild(js, "foreign", d.drvPath, d.out());
    exec("UPDATE Builds SET system = 'aarch64-linux' WHERE id = " + std::to_string(id));
    startRunner();
    waitForFinished({id}, 60s);
    EXPECT_EQ(buildStatus(id), 9) << runnerLog();
    // One step row says why (as Hydra records it), not one per code path that noticed.
    EXPECT_EQ(query1<long long>("SELECT count(*) FROM BuildSteps WHERE build = " + std::to_string(id)), 1)
        << query1<std::string>("SELECT string_agg(stepnr || ':' || status, ' ') FROM BuildSteps");
    EXPECT_GE(query1<long long>("SELECT count(*) FROM BuildSteps WHERE status = 9 AND drvPath = '" +
                                d.drvPath + "' AND build = " + std::to_string(id)),
              1);
    EXPECT_EQ(query1<long long>("SELECT count(*) FROM BuildSteps WHERE busy != 0"), 0);
    EXPECT_FALSE(validLocally(d.out()));
}

TEST_F(QueueRunnerControlTest, StatusPrintsTheQueueFiguresAndStoresThemInSystemStatus)
{
    NixGraph g;
    g.add("slow").script = scripts::sleeping(30);
    g.add("waiting", {"slow"});
    auto drvs = g.derivations();
    int js = rows_->jobset();
    auto id = rows_->queueBuild(js, "waiting", drvs.at("waiting").drvPath, drvs.at("waiting").out());
    auto started = static_cast<long long>(std::time(nullptr));
    startRunner();
    waitForCount("SELECT count(*) FROM BuildSteps WHERE busy = 30", 1);

    auto env = runnerEnv();
    auto r = run({.argv = {queueRunnerBinary(), "--status"}, .setEnv = env}, {}, std::chrono::seconds(30));
    ASSERT_TRUE(exitedOk(r.status)) << r.err;
    auto status = nlohmann::json::parse(r.out);
    EXPECT_EQ(status.at("status"), "up");
    EXPECT_EQ(status.at("nrQueuedBuilds"), 1) << r.out;
    EXPECT_EQ(status.at("nrUnfinishedSteps"), 2) << r.out;
    EXPECT_TRUE(status.at("machines").contains("localhost")) << r.out;
    EXPECT_EQ(status.at("nrActiveSteps"), 1) << r.out;
    EXPECT_TRUE(status.at("activeSteps").contains(drvs.at("slow").drvPath)) << r.out;
    // "waiting" waits for "slow": nothing is runnable, one step of the type runs, none is done.
    EXPECT_EQ(status.at("nrRunnableSteps"), 0) << r.out;
    EXPECT_EQ(status.at("nrStepsWaiting"), 0) << r.out;
    EXPECT_EQ(status.at("nrStepsDone"), 0) << r.out;
    EXPECT_EQ(status.at("nrBuildsDone"), 0) << r.out;
    EXPECT_EQ(status.at("nrRetries"), 0) << r.out;
    EXPECT_EQ(status.at("nrStepsBuilding"), 1) << r.out;
    EXPECT_EQ(status.at("activeStepsByStage").at("building"), 1) << r.out;
    EXPECT_EQ(status.at("activeStepsByStage").at("connecting"), 0) << r.out;
    ASSERT_EQ(status.at("machineTypes").size(), 1U) << r.out;
    const auto& type = status.at("machineTypes").begin().value();
    EXPECT_EQ(type.at("running"), 1) << r.out;
    EXPECT_EQ(type.at("runnable"), 0) << r.out;
    EXPECT_EQ(type.at("waitTime"), 0) << r.out;
    EXPECT_GE(type.at("lastActive").get<long long>(), started) << r.out;
    EXPECT_LE(type.at("lastActive").get<long long>(), status.at("time").get<long long>()) << r.out;
    EXPECT_EQ(status.at("dbConnections").at("max"), 8) << r.out;
    auto stored = nlohmann::json::parse(
        query1<std::string>("SELECT status::text FROM SystemStatus WHERE what = 'queue-runner'"));
    EXPECT_EQ(stored.at("nrQueuedBuilds"), 1);
    EXPECT_EQ(stored.at("pid"), status.at("pid"));

    EXPECT_EQ(stopRunner(), 0);
    // With no runner, --status says so instead of printing stale figures.
    auto none = run({.argv = {queueRunnerBinary(), "--status"}, .setEnv = env}, {}, std::chrono::seconds(60));
    EXPECT_FALSE(exitedOk(none.status)) << none.out;
    EXPECT_NE(none.err.find("queue runner"), std::string::npos) << none.err;
    (void) id;
}

TEST_F(QueueRunnerControlTest, StepThatFailsTransientlyIsRetriedAndSucceedsOnceTheMachineIsBack)
{
    BuildHost host(HostNetwork::OwnNetns);
    auto machines = state_ + "/machines";
    std::ofstream(machines) << host.machinesLine("x86_64-linux", 1) << "\n";
    NixGraph g;
    g.add("retried");
    auto drvs = g.derivations();
    int js = rows_->jobset();
    auto id = rows_->queueBuild(js, "retried", drvs.at("retried").drvPath, drvs.at("retried").out());
    host.cutLink();
    startRunner(machines);
    // The first attempt cannot reach the host: recorded as aborted, the build stays queued.
    waitForCount("SELECT count(*) FROM BuildSteps WHERE status = 3 AND busy = 0 AND build = " +
                     std::to_string(id),
                 1, 120s);
    EXPECT_EQ(query1<int>("SELECT finished FROM Builds WHERE id = " + std::to_string(id)), 0);
    host.restoreLink();
    waitForFinished({id}, 240s);
    EXPECT_EQ(buildStatus(id), 0) << runnerLog();
    auto steps = std::to_string(id);
    EXPECT_GE(query1<long long>("SELECT count(*) FROM BuildSteps WHERE build = " + steps), 2);
    EXPECT_EQ(
        query1<int>("SELECT status FROM BuildSteps WHERE build = " + steps + " ORDER BY stepnr DESC LIMIT 1"),
        0);
    EXPECT_EQ(query1<std::string>("SELECT string_agg(DISTINCT machine, ',') FROM BuildSteps WHERE build = " +
                                  steps),
              host.storeUri());
    EXPECT_EQ(query1<long long>("SELECT count(*) FROM BuildSteps WHERE busy != 0"), 0);
    EXPECT_TRUE(validLocally(drvs.at("retried").out()));
}

TEST_F(QueueRunnerControlTest, CancellingOneOfTwoBuildsKeepsTheSharedStepRunningForTheOther)
{
    NixGraph g;
    g.add("shared").script = scripts::sleeping(5);
    g.add("one", {"shared"});
    g.add("two", {"shared"});
    auto drvs = g.derivations();
    int js = rows_->jobset();
    auto one = rows_->queueBuild(js, "one", drvs.at("one").drvPath, drvs.at("one").out());
    auto two = rows_->queueBuild(js, "two", drvs.at("two").drvPath, drvs.at("two").out());
    startRunner();
    waitForCount("SELECT count(*) FROM BuildSteps WHERE busy = 30", 1);
    exec("UPDATE Builds SET finished = 1, buildStatus = 4, startTime = extract(epoch from now())::bigint, "
         "stopTime = extract(epoch from now())::bigint WHERE id = " +
         std::to_string(one));
    waitForFinished({two}, 120s);
    EXPECT_EQ(buildStatus(two), 0) << runnerLog();
    EXPECT_EQ(buildStatus(one), 4);
    // The shared step ran once, to the end; the cancelled build's own step never ran.
    EXPECT_EQ(query1<long long>("SELECT count(*) FROM BuildSteps WHERE drvPath = '" +
                                drvs.at("shared").drvPath + "' AND status = 0"),
              1);
    EXPECT_EQ(query1<long long>("SELECT count(*) FROM BuildSteps WHERE status != 0"), 0) << runnerLog();
    EXPECT_EQ(
        query1<long long>("SELECT count(*) FROM BuildSteps WHERE drvPath = '" + drvs.at("one").drvPath + "'"),
        0);
    EXPECT_FALSE(validLocally(drvs.at("one").out()));
}

TEST_F(QueueRunnerControlTest, DeletingARunningBuildStopsItsStep)
{
    NixGraph g;
    auto marker = "sleeper-" + g.nonce();
    g.add("doomed").script = markedSleeper(marker);
    auto drvs = g.derivations();
    int js = rows_->jobset();
    auto id = rows_->queueBuild(js, "doomed", drvs.at("doomed").drvPath, drvs.at("doomed").out());
    startRunner();
    waitForCount("SELECT count(*) FROM BuildSteps WHERE busy = 30", 1);
    pid_t builder = builderPid(marker);
    ASSERT_NE(builder, 0) << "no builder runs";
    exec("DELETE FROM Builds WHERE id = " + std::to_string(id)); // cascades to its steps
    // The runner stops the step rather than build for a minute for a build that is gone.
    auto deadline = std::chrono::steady_clock::now() + 30s;
    while (processAlive(builder)) {
        ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the builder still runs; log:\n"
                                                              << runnerLog();
        std::this_thread::sleep_for(100ms);
    }
    EXPECT_NE(runnerLog().find("stopping step " + drvs.at("doomed").drvPath), std::string::npos)
        << runnerLog();
    EXPECT_FALSE(validLocally(drvs.at("doomed").out()));
    EXPECT_EQ(stopRunner(), 0);
}

TEST_F(QueueRunnerControlTest, ACancelledBuildThatIsRestartedIsBuilt)
{
    NixGraph g;
    g.add("blocker").script = scripts::sleeping(3);
    g.add("later");
    auto drvs = g.derivations();
    int js = rows_->jobset();
    auto blocker = rows_->queueBuild(js, "blocker", drvs.at("blocker").drvPath, drvs.at("blocker").out());
    auto later = rows_->queueBuild(js, "later", drvs.at("later").drvPath, drvs.at("later").out());
    startRunner("", {{"NIX_CONFIG", "substituters =\nmax-jobs = 1"}});
    waitForCount("SELECT count(*) FROM BuildSteps WHERE busy = 30 AND build = " + std::to_string(blocker), 1);
    // Cancelled while it waits for the slot: it must not be built...
    exec("UPDATE Builds SET finished = 1, buildStatus = 4, startTime = extract(epoch from now())::bigint, "
         "stopTime = extract(epoch from now())::bigint WHERE id = " +
         std::to_string(later));
    waitForFinished({blocker}, 60s);
    std::this_thread::sleep_for(2s);
    EXPECT_EQ(query1<long long>("SELECT count(*) FROM BuildSteps WHERE build = " + std::to_string(later)), 0);
    EXPECT_EQ(buildStatus(later), 4);
    // ...until it is restarted (builds_restarted), which the runner notices without a restart.
    exec("UPDATE Builds SET finished = 0, buildStatus = NULL, startTime = NULL, stopTime = NULL WHERE id = " +
         std::to_string(later));
    waitForFinished({later}, 30s);
    EXPECT_EQ(buildStatus(later), 0) << runnerLog();
    EXPECT_TRUE(validLocally(drvs.at("later").out()));
}

TEST_F(QueueRunnerControlTest, CancellingABuildStopsItsStepOnARemoteBuildHost)
{
    BuildHost host;
    auto machines = state_ + "/machines";
    std::ofstream(machines) << host.machinesLine("x86_64-linux", 1) << "\n";
    NixGraph g;
    auto marker = "sleeper-" + g.nonce();
    g.add("remote").script = markedSleeper(marker);
    auto drvs = g.derivations();
    int js = rows_->jobset();
    auto id = rows_->queueBuild(js, "remote", drvs.at("remote").drvPath, drvs.at("remote").out());
    startRunner(machines);
    waitForCount("SELECT count(*) FROM BuildSteps WHERE busy = 30 AND build = " + std::to_string(id), 1,
                 120s);
    pid_t builder = builderPid(marker);
    ASSERT_NE(builder, 0) << "no builder runs on the host";
    cancelBuild(id);
    ASSERT_NO_FATAL_FAILURE(waitUntilGone(builder));
    waitForCount("SELECT count(*) FROM BuildSteps WHERE busy != 0 OR stopTime IS NULL", 0, 30s);
    EXPECT_EQ(buildStatus(id), 4);
    auto onHost = host.run("nix-store --check-validity " + drvs.at("remote").out());
    EXPECT_FALSE(exitedOk(onHost.status)) << "the cancelled build's output must not appear on the host";
    EXPECT_NE(onHost.err.find("is not valid"), std::string::npos) << onHost.err;
    EXPECT_EQ(stopRunner(), 0);
}

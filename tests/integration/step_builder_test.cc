// StepBuilder against real parts: the local store shared with the builder (localhost), and a
// build host with its own store behind a real sshd. Outcomes, log files, copied inputs and
// outputs, limits, the BuildPaths fallback and GC roots.

#include "harness/build_host.hh"
#include "harness/nix_graph.hh"

#include "nix/derivation.hh"
#include "nix/gc_roots.hh"
#include "nix/machine_connection.hh"
#include "nix/machines.hh"
#include "queue-runner/build_log.hh"
#include "queue-runner/session_pool.hh"
#include "queue-runner/step_builder.hh"
#include "util/error.hh"
#include "util/process.hh"
#include "util/sync.hh"

#include "support/scoped_env.hh"

#include <gtest/gtest.h>

#include <algorithm>
#include <condition_variable>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <stop_token>
#include <thread>

using namespace hydra;
using namespace hydra::qr;
using namespace hydra::test;
using namespace std::chrono_literals;
using db::BuildStatus;
using db::StepBusy;
namespace fs = std::filesystem;

namespace {

const bool sigpipeIgnored = [] { return std::signal(SIGPIPE, SIG_IGN) != SIG_ERR; }();

std::string readFile(const fs::path& path)
{
    std::ifstream f(path, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

nix::ConnectionOptions testOptions()
{
    nix::ConnectionOptions o;
    o.setEnv = nixTestEnv();
    o.ssh.configFile = "/dev/null";
    o.ssh.connectTimeout = 10;
    o.readTimeout = 120s;
    return o;
}

nix::Machine localhost()
{
    return nix::parseMachines("localhost x86_64-linux", "test machines").at(0);
}

bool validLocally(const std::string& path)
{
    return exitedOk(run({.argv = {"nix-store", "--verify-path", path}, .setEnv = nixTestEnv()}).status);
}

/// Runs steps with a fresh log directory and records the stages each run went through.
class StepBuilderTest : public ::testing::Test {
protected:
    fs::path logDir_ = fs::temp_directory_path() / ("step-builder-logs-" + NixGraph().nonce());
    StepBuilderOptions opts_{.local = testOptions()};
    std::vector<StepBusy> stages_;
    std::mutex sendLock_;

    void TearDown() override { fs::remove_all(logDir_); }

    StepJob job(const NixDrv& d, bool shared)
    {
        StepJob j;
        j.buildId = 1;
        j.stepNr = 1;
        j.drvPath = d.drvPath;
        j.drv = nix::parseDerivation(readFile(d.drvPath), d.drvPath);
        j.logPath = buildLogPath(logDir_, d.drvPath);
        j.sharedStore = shared;
        j.machine = shared ? "localhost" : "build host";
        return j;
    }

    StepOutcome runOn(const nix::Machine& m, const StepJob& j)
    {
        stages_.clear();
        auto factory = [&](const nix::LogSink& sink) {
            return nix::MachineConnection(m, testOptions(), sink);
        };
        return StepBuilder(opts_).run(j, factory, sendLock_, [&](StepBusy b) { stages_.push_back(b); });
    }

    bool sawStage(StepBusy b) const { return std::find(stages_.begin(), stages_.end(), b) != stages_.end(); }

    /// Runs a step with sessions from `pool`; returns the outcome and the pid that served it.
    std::pair<StepOutcome, pid_t> runPooled(SessionPool& pool, const nix::Machine& m, const StepJob& j)
    {
        pid_t pid = -1;
        auto factory = [&](const nix::LogSink& sink) {
            auto c = pool.acquire(m, sink);
            pid = c.pid();
            return c;
        };
        ConnectionReturn giveBack = [&](nix::MachineConnection&& c) { pool.release(m, std::move(c)); };
        return {StepBuilder(opts_).run(j, factory, sendLock_, {}, {}, giveBack), pid};
    }

    /// Two steps in a row through one pool: the second reuses the first one's session, and
    /// each log holds its own builder's words only.
    void expectSessionReusedWithSeparateLogs(const nix::Machine& m, bool shared)
    {
        NixGraph g;
        g.add("first").script = "echo \"first-says-$nonce\" >&2; echo 1 > \"$out\"";
        g.add("second").script = "echo \"second-says-$nonce\" >&2; echo 2 > \"$out\"";
        auto drvs = g.derivations();
        FakeClock clock;
        SessionPool pool({.connection = testOptions()}, clock);
        LocalSessions local(pool, 1);
        opts_.localSessions = &local;
        auto [o1, pid1] = runPooled(pool, m, job(drvs.at("first"), shared));
        ASSERT_EQ(o1.status, BuildStatus::Success) << o1.errorMsg;
        // The machine's session, and for a build host the local one its output came through.
        EXPECT_EQ(pool.idleCount(), shared ? 1u : 2u);
        auto [o2, pid2] = runPooled(pool, m, job(drvs.at("second"), shared));
        ASSERT_EQ(o2.status, BuildStatus::Success) << o2.errorMsg;
        EXPECT_EQ(pid1, pid2);
        EXPECT_GT(pid1, 0);
        EXPECT_EQ(pool.idleCount(), shared ? 1u : 2u); // nothing new was started
        auto log1 = readFile(o1.logPath), log2 = readFile(o2.logPath);
        EXPECT_NE(log1.find("first-says-" + g.nonce()), std::string::npos) << log1;
        EXPECT_EQ(log1.find("second-says"), std::string::npos) << log1;
        EXPECT_NE(log2.find("second-says-" + g.nonce()), std::string::npos) << log2;
        EXPECT_EQ(log2.find("first-says"), std::string::npos) << log2;
        EXPECT_TRUE(validLocally(drvs.at("second").out()));
    }
};

} // namespace

TEST_F(StepBuilderTest, LocalhostBuildsInPlaceWithLogProductsAndSizes)
{
    NixGraph g;
    g.add("hello").script = "echo \"hello-log-$nonce\"; mkdir -p $out/nix-support; "
                            "echo \"$nonce\" > $out/README; "
                            "echo \"doc readme $out/README\" > $out/nix-support/hydra-build-products; "
                            "echo \"hello-1.0\" > $out/nix-support/hydra-release-name; "
                            "echo \"lines 42 count\" > $out/nix-support/hydra-metrics";
    auto d = g.derivations().at("hello");
    ASSERT_FALSE(validLocally(d.out()));

    auto o = runOn(localhost(), job(d, true));
    ASSERT_EQ(o.status, BuildStatus::Success) << o.errorMsg << "\n" << readFile(o.logPath);
    EXPECT_FALSE(o.transient);
    EXPECT_EQ(o.outputs, (std::map<std::string, std::string>{{"out", d.out()}}));
    EXPECT_TRUE(validLocally(d.out()));
    EXPECT_EQ(o.logPath, buildLogPath(logDir_, d.drvPath));
    EXPECT_NE(readFile(o.logPath).find("hello-log-" + g.nonce()), std::string::npos);
    EXPECT_EQ(o.timesBuilt, 1u);
    EXPECT_GT(o.size, 0u);
    EXPECT_EQ(o.closureSize, o.size); // no references
    EXPECT_EQ(o.narSizes.at(d.out()), o.size);
    ASSERT_EQ(o.products.size(), 1u);
    EXPECT_EQ(o.products[0].path, d.out() + "/README");
    EXPECT_EQ(o.products[0].fileSize, g.nonce().size() + 1);
    EXPECT_EQ(o.releaseName, "hello-1.0");
    EXPECT_EQ(o.metrics.at("lines").value, 42);
    EXPECT_EQ(o.overheadMs, 0u); // nothing copied
    EXPECT_LE(o.startTime, o.stopTime);
    EXPECT_TRUE(sawStage(StepBusy::Connecting) && sawStage(StepBusy::Building) &&
                sawStage(StepBusy::PostProcessing));
    EXPECT_FALSE(sawStage(StepBusy::SendingInputs) || sawStage(StepBusy::ReceivingOutputs)); // nothing copied
}

TEST_F(StepBuilderTest, FailingBuilderIsFailedWithItsLog)
{
    NixGraph g;
    g.add("bad").script = scripts::failing(3);
    auto d = g.derivations().at("bad");
    auto o = runOn(localhost(), job(d, true));
    EXPECT_EQ(o.status, BuildStatus::Failed);
    EXPECT_TRUE(o.canCache);
    EXPECT_FALSE(o.transient);
    EXPECT_TRUE(o.outputs.empty());
    EXPECT_NE(readFile(o.logPath).find("this build fails on purpose"), std::string::npos);
    EXPECT_FALSE(validLocally(d.out()));
    // What Nix said, so that the step row tells why (as BuildSteps.errorMsg), without colours.
    EXPECT_NE(o.errorMsg.find("failed with exit code 3"), std::string::npos) << o.errorMsg;
    EXPECT_NE(o.errorMsg.find(d.drvPath), std::string::npos) << o.errorMsg;
    EXPECT_EQ(o.errorMsg.find('\x1b'), std::string::npos) << o.errorMsg;
}

TEST_F(StepBuilderTest, FailedMarkerGivesFailedWithOutput)
{
    NixGraph g;
    g.add("marked").script = scripts::failedWithOutput();
    auto d = g.derivations().at("marked");
    auto o = runOn(localhost(), job(d, true));
    EXPECT_EQ(o.status, BuildStatus::FailedWithOutput) << o.errorMsg;
    EXPECT_EQ(o.stepStatus(), BuildStatus::Success);
    EXPECT_TRUE(o.outputsValid());
    EXPECT_FALSE(o.canCache);
    EXPECT_TRUE(validLocally(d.out()));
}

TEST_F(StepBuilderTest, TimeoutGivesTimedOut)
{
    NixGraph g;
    g.add("slow").script = scripts::sleeping(60);
    auto d = g.derivations().at("slow");
    auto j = job(d, true);
    j.timeout = 1;
    auto o = runOn(localhost(), j);
    EXPECT_EQ(o.status, BuildStatus::TimedOut) << o.errorMsg;
    EXPECT_FALSE(o.transient);
    EXPECT_TRUE(fs::exists(o.logPath));
}

TEST_F(StepBuilderTest, BigLogOverTheLimitGivesLogLimitExceeded)
{
    NixGraph g;
    g.add("chatty").script = scripts::bigLog(20000);
    auto d = g.derivations().at("chatty");
    auto j = job(d, true);
    j.maxLogSize = 10000;
    auto o = runOn(localhost(), j);
    EXPECT_EQ(o.status, BuildStatus::LogLimitExceeded) << o.errorMsg;
    EXPECT_NE(readFile(o.logPath).find("log line 0 of"), std::string::npos);
}

// Simulated: this machine's root may use BuildDerivation; an unprivileged container gets
// "you are not privileged to build ..." from the daemon. The simulation raises that error where
// BuildDerivation would be sent, so the detection, the reconnection and BuildPaths run for real.
TEST_F(StepBuilderTest, RefusedBuildDerivationFallsBackToBuildPaths)
{
    NixGraph g;
    g.add("good").script = "echo \"fallback-log-$nonce\"; echo ok > $out";
    g.add("bad").script = scripts::failing();
    auto drvs = g.derivations();
    opts_.simulateBuildDerivationRefusal = true;

    auto o = runOn(localhost(), job(drvs.at("good"), true));
    ASSERT_EQ(o.status, BuildStatus::Success) << o.errorMsg;
    EXPECT_TRUE(o.buildDerivationRefused);
    EXPECT_TRUE(validLocally(drvs.at("good").out()));
    EXPECT_NE(readFile(o.logPath).find("fallback-log-" + g.nonce()), std::string::npos);

    // Known refusal: straight to BuildPaths, whose failure maps too.
    auto j = job(drvs.at("bad"), true);
    j.useBuildPaths = true;
    o = runOn(localhost(), j);
    EXPECT_EQ(o.status, BuildStatus::Failed) << o.errorMsg;
    EXPECT_FALSE(o.buildDerivationRefused);
    EXPECT_NE(readFile(o.logPath).find("this build fails on purpose"), std::string::npos);
    EXPECT_NE(o.errorMsg.find("failed with exit code 1"), std::string::npos) << o.errorMsg;
}

// Hydra deployments list their build machines in NIX_REMOTE_SYSTEMS, which the runner's local
// nix-store inherits; Nix's build hook, which BuildPaths consults, would send the step there.
TEST_F(StepBuilderTest, LocalBuildPathsBuildsHereWhateverMachinesTheEnvironmentNames)
{
    BuildHost host(HostNetwork::OwnNetns); // port 22: Nix 2.8's build hook cannot give a port
    fs::create_directories(logDir_);
    auto machines = logDir_ / "machines";
    std::ofstream(machines) << host.machinesLine("x86_64-linux", 4) << "\n";
    ScopedEnv remote("NIX_REMOTE_SYSTEMS", machines.string());
    NixGraph g;
    g.add("here");
    auto d = g.derivations().at("here");
    opts_.simulateBuildDerivationRefusal = true;

    auto o = runOn(localhost(), job(d, true));
    ASSERT_EQ(o.status, BuildStatus::Success) << o.errorMsg << "\n" << readFile(o.logPath);
    EXPECT_TRUE(o.buildDerivationRefused);
    EXPECT_TRUE(validLocally(d.out()));
    EXPECT_FALSE(exitedOk(host.run("nix-store --check-validity " + d.out()).status))
        << "built on the machine NIX_REMOTE_SYSTEMS names: " << readFile(o.logPath);
}

TEST_F(StepBuilderTest, UnreachableMachineIsATransientAbort)
{
    NixGraph g;
    g.add("any");
    auto d = g.derivations().at("any");
    auto o = runOn(nix::parseMachines("ssh://root@127.0.0.1:1 x86_64-linux", "m").at(0), job(d, false));
    EXPECT_EQ(o.status, BuildStatus::Aborted);
    EXPECT_TRUE(o.transient);
    EXPECT_NE(o.errorMsg.find("cannot connect"), std::string::npos) << o.errorMsg;
    EXPECT_TRUE(o.logPath.empty()); // nothing was built: no log kept
}

TEST_F(StepBuilderTest, OutputsAreRegisteredAsGcRoots)
{
    NixGraph g;
    g.add("kept");
    auto d = g.build().at("kept");
    auto dir = fs::path("/nix/var/nix/gcroots/per-user/root") / ("hydra-test-" + g.nonce());
    nix::GcRoots roots(dir);
    roots.add(d.out());
    roots.add(d.out()); // idempotent
    auto printed = runChecked({.argv = {"nix-store", "--gc", "--print-roots"}, .setEnv = nixTestEnv()});
    fs::remove_all(dir);
    EXPECT_NE(printed.find(roots.rootFor(d.out()).string() + " -> " + d.out()), std::string::npos);
    EXPECT_THROW(roots.add("/tmp/not-a-store-path"), Error);
}

/// A build host with its own store; the step's dependency is built locally first.
class RemoteStepTest : public StepBuilderTest {
protected:
    BuildHost host_;
    nix::Machine machine_ = nix::parseMachines(host_.machinesLine("x86_64-linux"), "test machines").at(0);
};

TEST_F(RemoteStepTest, CopiesInputsBuildsThereAndBringsOutputsBack)
{
    NixGraph g;
    g.add("base");
    g.add("top", {"base"}).script = "echo \"remote-log-$nonce\" >&2; echo \"$nonce top $deps\" > \"$out\"";
    auto base = g.build({"base"}).at("base");
    auto top = g.derivations().at("top");
    ASSERT_FALSE(validLocally(top.out()));

    auto o = runOn(machine_, job(top, false));
    ASSERT_EQ(o.status, BuildStatus::Success) << o.errorMsg << "\n" << readFile(o.logPath);
    EXPECT_TRUE(exitedOk(host_.run("nix-store --check-validity " + base.out()).status)); // input sent
    EXPECT_TRUE(validLocally(top.out()));                                                // output back
    EXPECT_NE(readFile(top.out()).find(base.out()), std::string::npos);
    EXPECT_NE(readFile(o.logPath).find("remote-log-" + g.nonce()), std::string::npos);
    EXPECT_GT(o.closureSize, o.size); // top references base
    EXPECT_TRUE(sawStage(StepBusy::SendingInputs) && sawStage(StepBusy::ReceivingOutputs));
}

TEST_F(RemoteStepTest, FailingBuilderSaysItsExitCode)
{
    NixGraph g;
    g.add("bad").script = scripts::failing(5);
    auto d = g.derivations().at("bad");
    auto o = runOn(machine_, job(d, false));
    EXPECT_EQ(o.status, BuildStatus::Failed) << o.errorMsg;
    EXPECT_TRUE(o.canCache);
    EXPECT_NE(o.errorMsg.find("failed with exit code 5"), std::string::npos) << o.errorMsg;
}

TEST_F(RemoteStepTest, OutputOverMaxOutputSizeStaysThere)
{
    NixGraph g;
    g.add("huge").script = "head -c 204800 /dev/zero > $out";
    auto d = g.derivations().at("huge");
    auto j = job(d, false);
    j.maxOutputSize = 100000;
    auto o = runOn(machine_, j);
    EXPECT_EQ(o.status, BuildStatus::NarSizeLimitExceeded) << o.errorMsg;
    EXPECT_FALSE(o.transient);
    EXPECT_GT(o.size, 200000u);
    EXPECT_TRUE(exitedOk(host_.run("nix-store --check-validity " + d.out()).status));
    EXPECT_FALSE(validLocally(d.out())); // not copied
}

TEST_F(StepBuilderTest, ConsecutiveStepsOnLocalhostShareOneSessionWithSeparateLogs)
{
    expectSessionReusedWithSeparateLogs(localhost(), true);
}

TEST_F(RemoteStepTest, ConsecutiveStepsOnABuildHostShareOneSessionWithSeparateLogs)
{
    expectSessionReusedWithSeparateLogs(machine_, false);
}

TEST_F(StepBuilderTest, SessionPoolReplacesDeadSessionsAndClosesIdleOnes)
{
    FakeClock clock;
    SessionPool pool({.connection = testOptions(), .maxIdle = 60s, .checkTimeout = 1s}, clock);
    auto m = localhost();
    m.maxJobs = 1;
    auto a = pool.acquire(m, {});
    auto b = pool.acquire(m, {});
    pid_t pidA = a.pid(), pidB = b.pid();
    pool.release(m, std::move(a));
    pool.release(m, std::move(b)); // over maxJobs idle sessions: closed
    EXPECT_EQ(pool.idleCount(), 1u);

    // A server that died while idle is not handed out again.
    ASSERT_EQ(::kill(pidA, SIGKILL), 0);
    std::this_thread::sleep_for(200ms);
    auto c = pool.acquire(m, {});
    EXPECT_NE(c.pid(), pidA);
    EXPECT_NE(c.pid(), pidB);
    EXPECT_EQ(c.client().queryValidPaths({}).size(), 0u);
    pool.release(m, std::move(c));

    // A server that hangs while idle (a link that died without a word) fails the check.
    pool.release(m, pool.acquire(m, {}));
    ASSERT_EQ(pool.idleCount(), 1u);
    auto hung = pool.acquire(m, {});
    pid_t hungPid = hung.pid();
    pool.release(m, std::move(hung));
    ASSERT_EQ(::kill(hungPid, SIGSTOP), 0);
    auto fresh = pool.acquire(m, {});
    ::kill(hungPid, SIGCONT);
    EXPECT_NE(fresh.pid(), hungPid);
    EXPECT_EQ(fresh.client().queryValidPaths({}).size(), 0u);
    pool.release(m, std::move(fresh));

    // Past its maximum age a session is not reused, however busy the machine.
    {
        SessionPool young({.connection = testOptions(), .maxAge = 1s}, clock);
        auto first = young.acquire(m, {});
        pid_t firstPid = first.pid();
        young.release(m, std::move(first));
        EXPECT_EQ(young.idleCount(), 1u);
        std::this_thread::sleep_for(1100ms);
        auto second = young.acquire(m, {});
        EXPECT_NE(second.pid(), firstPid);
    }

    clock.advance(30s);
    pool.closeIdle();
    EXPECT_EQ(pool.idleCount(), 1u);
    clock.advance(31s);
    pool.closeIdle();
    EXPECT_EQ(pool.idleCount(), 0u);
}

TEST_F(StepBuilderTest, StopRequestCancelsARunningBuild)
{
    NixGraph g;
    g.add("long").script = "echo started; " + scripts::sleeping(600);
    auto d = g.derivations().at("long");
    std::stop_source stop;
    std::jthread stopper;
    auto factory = [&](const nix::LogSink& sink) {
        return nix::MachineConnection(localhost(), testOptions(), sink);
    };
    auto progress = [&](StepBusy b) {
        if (b != StepBusy::Building) return;
        stopper = std::jthread([&] {
            std::this_thread::sleep_for(1s); // let the build start
            stop.request_stop();
        });
    };
    auto o = StepBuilder(opts_).run(job(d, true), factory, sendLock_, progress, stop.get_token());
    EXPECT_EQ(o.status, BuildStatus::Cancelled) << o.errorMsg;
    EXPECT_FALSE(o.transient);
    EXPECT_FALSE(validLocally(d.out()));
    // The builder was stopped with the session: building it again is not blocked by its lock.
    auto j = job(d, true);
    j.timeout = 1;
    EXPECT_EQ(runOn(localhost(), j).status, BuildStatus::TimedOut);
}

TEST_F(RemoteStepTest, InputsWaitForTheMachinesSendLock)
{
    NixGraph g;
    g.add("dep");
    g.add("user", {"dep"});
    auto dep = g.build({"dep"}).at("dep");
    auto user = g.derivations().at("user");
    auto j = job(user, false);

    std::unique_lock held(sendLock_); // another step is sending to this machine
    Sync<std::vector<StepBusy>> seen;
    std::condition_variable seenCv;
    auto factory = [&](const nix::LogSink& sink) {
        return nix::MachineConnection(machine_, testOptions(), sink);
    };
    auto progress = [&](StepBusy b) {
        seen.lock()->push_back(b);
        seenCv.notify_all();
    };
    StepOutcome o;
    std::jthread step([&] { o = StepBuilder(opts_).run(j, factory, sendLock_, progress); });

    auto sending = [](const std::vector<StepBusy>& v) {
        return !v.empty() && v.back() == StepBusy::SendingInputs;
    };
    ASSERT_TRUE(seen.lock().waitFor(seenCv, 60s, sending));
    // While the lock is held the step stays at SendingInputs and nothing reaches the machine.
    std::this_thread::sleep_for(2s);
    EXPECT_TRUE(sending(*seen.lock()));
    EXPECT_FALSE(exitedOk(host_.run("nix-store --check-validity " + dep.out()).status));
    held.unlock();
    step.join();
    EXPECT_EQ(o.status, BuildStatus::Success) << o.errorMsg;
    EXPECT_TRUE(exitedOk(host_.run("nix-store --check-validity " + dep.out()).status));
    EXPECT_TRUE(validLocally(user.out()));
}

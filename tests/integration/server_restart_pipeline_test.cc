// A restart from the web reaches the real queue runner: a build that failed at once from the
// failed-paths cache is restarted over HTTP, its cached failure is forgotten, and the runner
// (told by builds_restarted, not restarted itself) builds it for real in Nix's sandbox.

#include "harness/nix_graph.hh"
#include "harness/queue_runner_fixture.hh"
#include "harness/server_fixture.hh"
#include "harness/web_session.hh"

#include <gtest/gtest.h>

using namespace hydra;
using namespace hydra::test;
using namespace std::chrono_literals;

namespace {

using ServerRestartPipelineTest = QueueRunnerFixture;

TEST_F(ServerRestartPipelineTest, ARestartedCachedFailureIsBuiltByTheRunningQueueRunner)
{
    NixGraph g;
    g.add("fixed");
    auto drv = g.derivations().at("fixed");
    int js = rows_->jobset();
    // The path failed once (say, a flaky test); its derivation has been fixed upstream since.
    exec("INSERT INTO FailedPaths (path) VALUES ('" + drv.out() + "')");
    auto id = rows_->queueBuild(js, "fixed", drv.drvPath, drv.out());
    startRunner();
    waitForFinished({id}, 60s);
    ASSERT_EQ(buildStatus(id), 1) << runnerLog();
    EXPECT_EQ(query1<int>("SELECT isCachedBuild FROM Builds WHERE id = " + std::to_string(id)), 1);
    EXPECT_FALSE(validLocally(drv.out()));

    createUser(*conn_, "restarter", "pw", {"restart-jobs"});
    TestDaemon server(serverBinary(), state_ + "/server.log");
    int port = startServerDaemon(server, runnerEnv());
    auto s = logIn(port, "restarter", "pw");
    auto h = s.formHeaders();
    h.emplace("Referer", "http://127.0.0.1:" + std::to_string(port) + "/build/" + std::to_string(id));
    auto r = httpRequest(port, "POST", "/build/" + std::to_string(id) + "/restart", s.form(), h);
    ASSERT_EQ(r.status, 302) << r.body;

    waitForFinished({id}, 180s);
    EXPECT_EQ(buildStatus(id), 0) << runnerLog();
    EXPECT_EQ(query1<int>("SELECT isCachedBuild FROM Builds WHERE id = " + std::to_string(id)), 0);
    EXPECT_TRUE(validLocally(drv.out()));
    EXPECT_EQ(query1<long long>("SELECT count(*) FROM FailedPaths"), 0);
    server.stop();
}

} // namespace

#pragma once
// BrowserFarmTest: the browser beside the whole farm — PostgreSQL, evaluator and queue runner
// (EvaluatorFixture) — and hydra-server, started by the test as its own process.

#include "harness/browser_test.hh"
#include "harness/evaluator_fixture.hh"
#include "harness/server_fixture.hh"

#include <fmt/format.h>
#include <string>

namespace hydra::test {

/// Base of the browser tests that watch real builds.
class BrowserFarmTest : public BrowserTest<EvaluatorFixture> {
protected:
    void TearDown() override
    {
        keepFailureScreenshot(); // while the page is as the failure left it
        if (server_.running()) server_.stop();
        BrowserTest::TearDown();
    }

    /// Starts hydra-server with the runner's environment (database, state directory, hydra.conf).
    void startServer()
    {
        server_ = TestDaemon(serverBinary(), state_ + "/server.log");
        port_ = startServerDaemon(server_, runnerEnv());
        ASSERT_NE(port_, 0);
    }

    /// The address of `path` on the server.
    std::string url(const std::string& path) const { return at(port_, path); }
    /// The id of job `job`'s build (the test has one).
    long long buildOf(const std::string& job)
    {
        return query1<long long>(fmt::format("SELECT id FROM Builds WHERE job = '{}'", job));
    }
    /// The path of job `job`'s build page.
    std::string buildPage(const std::string& job) { return "/build/" + std::to_string(buildOf(job)); }

    TestDaemon server_{"", ""};
    int port_ = 0;
};

} // namespace hydra::test

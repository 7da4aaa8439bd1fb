// hydra-server on what the real daemons wrote: a jobset evaluated by hydra-evaluator and built
// in Nix's sandbox by hydra-queue-runner, then read through the pages a person clicks and the
// JSON a script reads.

#include "harness/evaluator_fixture.hh"
#include "harness/nix_graph.hh"
#include "harness/server_fixture.hh"
#include "util/process.hh"

#include <fmt/format.h>
#include <gtest/gtest.h>

using namespace std::chrono_literals;

namespace hydra::test {
namespace {

class ServerOnRealBuildsTest : public EvaluatorFixture {
protected:
    long long buildOf(const std::string& job)
    {
        return query1<long long>(fmt::format("SELECT id FROM Builds WHERE job = '{}'", job));
    }
    HttpReply get(const std::string& path, bool json = false)
    {
        return httpRequest(port_, "GET", path, "",
                           json ? std::multimap<std::string, std::string>{{"Accept", "application/json"}}
                                : std::multimap<std::string, std::string>{});
    }
    int port_ = 0;
};

TEST_F(ServerOnRealBuildsTest, PagesAndJsonShowWhatTheFarmBuilt)
{
    auto nonce = randomNonce();
    pathJobset("js", jobsetDir(goodBadDependentJobset(nonce)), 3600);
    startRunner();
    startEvaluator();
    waitForCount("SELECT count(*) FROM Builds WHERE finished = 1", 3, 240s);
    TestDaemon server(serverBinary(), state_ + "/server.log");
    port_ = startServerDaemon(server, runnerEnv());
    ASSERT_NE(port_, 0);
    auto good = std::to_string(buildOf("good"));
    auto bad = std::to_string(buildOf("bad"));

    // A failed build and its log are one click each from the jobset page.
    auto jobset = get("/jobset/p/js");
    ASSERT_EQ(jobset.status, 200) << jobset.body;
    EXPECT_NE(jobset.body.find("href=\"/build/" + bad + "\""), std::string::npos) << jobset.body;
    auto badPage = get("/build/" + bad);
    EXPECT_NE(badPage.body.find("s-bad"), std::string::npos);
    EXPECT_NE(badPage.body.find("href=\"/build/" + bad + "/log\""), std::string::npos) << badPage.body;
    auto log = get("/build/" + bad + "/log/raw");
    EXPECT_EQ(log.status, 200);
    EXPECT_NE(log.body.find(nonce + " is going to fail"), std::string::npos) << log.body;
    EXPECT_NE(get("/build/" + bad + "/log").body.find(nonce + " is going to fail"), std::string::npos);

    // Scripts: the build's JSON names an output that is in the store, and its NAR is served.
    auto build = get("/build/" + good, true).json();
    EXPECT_EQ(build["buildstatus"], 0);
    EXPECT_EQ(build["job"], "good");
    auto out = build["buildoutputs"]["out"]["path"].get<std::string>();
    EXPECT_TRUE(validLocally(out)) << out;
    auto nar = get("/build/" + good + "/output/out");
    EXPECT_EQ(nar.status, 200);
    auto dumped = run({.argv = {"nix-store", "--dump", out}, .setEnv = nixTestEnv(), .pipeStdout = true});
    EXPECT_EQ(nar.body, dumped.out);
    auto evalId = build["jobsetevals"][0].get<long long>();
    auto eval = get("/eval/" + std::to_string(evalId), true).json();
    EXPECT_EQ(eval["builds"].size(), 3u);
    auto latest = get("/job/p/js/good/latest");
    EXPECT_EQ(latest.status, 302);
    EXPECT_EQ(latest.header("Location"), "/build/" + good);
    EXPECT_EQ(get("/job/p/js/good/shield", true).json()["message"], "passing");
    EXPECT_EQ(get("/job/p/js/bad/shield", true).json()["message"], "failing");
    auto dep = get("/build/" + std::to_string(buildOf("needsBad")), true).json();
    EXPECT_EQ(dep["buildstatus"], 2);

    EXPECT_EQ(server.stop(), 0) << server.log();
    EXPECT_EQ(stopEvaluator(), 0) << evaluatorLog();
    EXPECT_EQ(stopRunner(), 0) << runnerLog();
}

} // namespace
} // namespace hydra::test

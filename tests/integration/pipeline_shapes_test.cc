// The whole pipeline -- evaluate, build, fail, notify -- on a database in Hydra's schema 87 and
// on databases of Hydra's schemas 80, 83 and 86 that `hydra init` upgraded, as an operator
// switching an existing Hydra site over would run it.

#include "harness/evaluator_fixture.hh"
#include "harness/nix_graph.hh"
#include "harness/schema_shapes.hh"
#include "util/process.hh"

#include <fmt/format.h>
#include <fstream>
#include <gtest/gtest.h>
#include <set>

using namespace std::chrono_literals;

namespace hydra::test {
namespace {

class PipelineOnShapesTest : public EvaluatorFixture, public ::testing::WithParamInterface<int> {
protected:
    // What an operator runs after stopping Hydra's daemons.
    void hydraInit()
    {
        auto r = run({.argv = {std::string(HYDRA_BINARY_DIR) + "/bin/hydra-init"},
                      .setEnv = runnerEnv(),
                      .pipeStdout = true,
                      .stderrToStdout = true});
        ASSERT_TRUE(exitedOk(r.status)) << statusToString(r.status) << ": " << r.out;
    }

    long long buildOf(const std::string& job)
    {
        return query1<long long>(fmt::format("SELECT id FROM Builds WHERE job = '{}'", job));
    }
};

TEST_P(PipelineOnShapesTest, EvaluatesBuildsFailsAndNotifies)
{
    int from = GetParam();
    if (from < 87) {
        downgradeSchema(*conn_, from);
        hydraInit();
    }
    ASSERT_EQ(catalogDifferences(*conn_), "");

    std::string handled = state_ + "/handled";
    addConfig("<runcommand>\n  job = *:*:*\n  command = grep -o '\"build\":[0-9]*' \"$HYDRA_JSON\" | cut -d: "
              "-f2 >> " +
              handled + "\n</runcommand>");
    pathJobset("js", jobsetDir(goodBadDependentJobset(randomNonce())), 3600);
    TestDaemon notify(std::string(HYDRA_BINARY_DIR) + "/bin/hydra-notify", state_ + "/notify.log");
    notify.start(runnerEnv());
    startRunner();
    startEvaluator();

    waitForCount("SELECT count(*) FROM Builds", 3, 120s);
    waitForCount("SELECT count(*) FROM Builds WHERE finished = 1", 3, 180s);
    EXPECT_EQ(buildStatus(buildOf("good")), 0);
    EXPECT_EQ(buildStatus(buildOf("bad")), 1);
    EXPECT_EQ(buildStatus(buildOf("needsBad")), 2);
    EXPECT_EQ(query1<long long>("SELECT count(*) FROM BuildSteps WHERE status = 1 AND stopTime >= startTime "
                                "AND startTime > 1600000000"),
              1);
    EXPECT_EQ(query1<long long>("SELECT count(*) FROM BuildOutputs o JOIN Builds b ON b.id = o.build "
                                "WHERE b.job = 'good' AND o.path IS NOT NULL"),
              1);

    // hydra-notify handled every finished build once and cleared its pending mark.
    waitForCount("SELECT count(*) FROM Builds WHERE notificationPendingSince IS NULL", 3, 60s);
    waitForCount("SELECT count(*) FROM RunCommandLogs WHERE end_time IS NOT NULL AND exit_code = 0", 3, 60s);
    std::ifstream in(handled);
    std::multiset<std::string> ids;
    for (std::string line; std::getline(in, line);) ids.insert(line);
    EXPECT_EQ(ids,
              (std::multiset<std::string>{std::to_string(buildOf("good")), std::to_string(buildOf("bad")),
                                          std::to_string(buildOf("needsBad"))}))
        << notify.log();

    EXPECT_EQ(stopEvaluator(), 0) << evaluatorLog();
    EXPECT_EQ(stopRunner(), 0) << runnerLog();
    EXPECT_EQ(notify.stop(), 0) << notify.log();
    // A wrong status is explained only by what the runner did.
    if (HasFailure())
        ADD_FAILURE() << "queue runner's log:\n" << runnerLog() << "\nevaluator's log:\n" << evaluatorLog();
}

INSTANTIATE_TEST_SUITE_P(Schemas, PipelineOnShapesTest, ::testing::Values(87, 86, 83, 80),
                         [](const auto& shape) { return "Hydra" + std::to_string(shape.param); });

} // namespace
} // namespace hydra::test

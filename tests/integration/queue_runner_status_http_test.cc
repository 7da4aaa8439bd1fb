// hydra-queue-runner's status and machines documents over HTTP on its metrics address
// (GET /status, GET /status/machines, as Hydra's newest queue runner serves them for the web
// server's queue_runner_endpoint), read while a real step runs and after it has finished.

#include "harness/free_port.hh"
#include "harness/nix_graph.hh"
#include "harness/queue_runner_fixture.hh"

#include <fstream>
#include <httplib.h>
#include <nlohmann/json.hpp>
#include <thread>

using namespace hydra;
using namespace hydra::test;
using namespace std::chrono_literals;

namespace {

class QueueRunnerStatusHttpTest : public QueueRunnerFixture {
protected:
    /// GET `path` on the runner; fails the test when nothing answers.
    httplib::Result get(const std::string& path)
    {
        httplib::Client client("127.0.0.1", port);
        client.set_connection_timeout(5s);
        client.set_read_timeout(10s);
        auto res = client.Get(path.c_str());
        EXPECT_TRUE(res) << path << ": " << httplib::to_string(res.error()) << "\n" << runnerLog();
        return res;
    }

    nlohmann::json getJson(const std::string& path)
    {
        auto res = get(path);
        if (!res) return {};
        EXPECT_EQ(res->status, 200) << path << ": " << res->body;
        EXPECT_EQ(res->get_header_value("Content-Type"), "application/json") << path;
        return nlohmann::json::parse(res->body);
    }

    /// Polls /status/machines until `done` holds for the machine `name` (the runner may not
    /// listen yet at first).
    nlohmann::json waitForMachine(const std::string& name,
                                  const std::function<bool(const nlohmann::json&)>& done)
    {
        nlohmann::json m;
        for (int i = 0; i < 600; ++i) {
            httplib::Client client("127.0.0.1", port);
            client.set_connection_timeout(5s);
            if (auto res = client.Get("/status/machines"); res && res->status == 200) {
                auto doc = nlohmann::json::parse(res->body);
                if (doc.contains("machines") && doc["machines"].contains(name)) m = doc["machines"][name];
                if (m.is_object() && done(m)) return m;
            }
            std::this_thread::sleep_for(100ms);
        }
        ADD_FAILURE() << "machine " << name << " never reached the state waited for: " << m.dump() << "\n"
                      << runnerLog();
        return m;
    }

    int port = freeLoopbackPort();
};

} // namespace

TEST_F(QueueRunnerStatusHttpTest, MachinesAndStatusShowARunningStepThenItsTotals)
{
    addConfig("queue_runner_metrics_address = 127.0.0.1:" + std::to_string(port) + "\n");
    auto machines = state_ + "/machines";
    std::ofstream(machines) << "localhost x86_64-linux - 2 3 big-parallel\n";
    NixGraph g;
    g.add("slow").script = scripts::sleeping(3);
    auto drvs = g.derivations();
    const auto& slow = drvs.at("slow");
    auto id = rows_->queueBuild(rows_->jobset(), "slow", slow.drvPath, slow.out());
    startRunner(machines);

    auto running = waitForMachine("localhost", [](const nlohmann::json& m) { return !m["jobs"].empty(); });
    EXPECT_EQ(running["hostname"], "localhost");
    EXPECT_EQ(running["jobs"], nlohmann::json::array({slow.drvPath}));
    EXPECT_EQ(running["stats"]["currentJobs"], 1);
    EXPECT_EQ(running["maxJobs"], 2);
    EXPECT_EQ(running["speedFactor"], 3.0);
    EXPECT_EQ(running["enabled"], true);
    EXPECT_EQ(running["supportedFeatures"], nlohmann::json::array({"big-parallel"}));
    EXPECT_EQ(running["mandatoryFeatures"], nlohmann::json::array());
    auto systems = running["systems"];
    EXPECT_NE(std::find(systems.begin(), systems.end(), "x86_64-linux"), systems.end()) << systems;
    auto status = getJson("/status");
    EXPECT_EQ(status["status"], "up");
    EXPECT_EQ(status["nrActiveSteps"], 1) << status.dump();
    EXPECT_EQ(status["activeSteps"][slow.drvPath], "localhost") << status.dump();
    EXPECT_TRUE(status["machines"].contains("localhost")) << status.dump();

    waitForFinished({id});
    ASSERT_EQ(buildStatus(id), 0) << runnerLog();
    auto done =
        waitForMachine("localhost", [](const nlohmann::json& m) { return m["stats"]["nrStepsDone"] == 1; });
    const auto& stats = done["stats"];
    EXPECT_EQ(stats["currentJobs"], 0);
    EXPECT_EQ(done["jobs"], nlohmann::json::array());
    EXPECT_GE(stats["totalStepTimeMs"].get<long long>(), 2000) << stats.dump();
    EXPECT_GE(stats["avgStepTimeMs"].get<long long>(), 2000) << stats.dump();
    EXPECT_EQ(stats["consecutiveFailures"], 0);
    EXPECT_EQ(stats["lastFailure"], 0);
    EXPECT_EQ(stats["disabledUntil"], 0);
    EXPECT_GT(stats["idleSince"].get<long long>(), 0);
    auto doc = getJson("/status/machines");
    EXPECT_EQ(doc["machinesCount"], 1) << doc.dump();
    status = getJson("/status");
    EXPECT_EQ(status["nrStepsDone"], 1) << status.dump();
    EXPECT_EQ(status["nrActiveSteps"], 0) << status.dump();

    // The metrics are still served beside them; other paths are not.
    auto metrics = get("/metrics");
    ASSERT_TRUE(metrics);
    EXPECT_EQ(metrics->status, 200);
    EXPECT_NE(metrics->body.find("hydra_steps_done_total 1"), std::string::npos) << metrics->body;
    for (const auto* path : {"/status/nothing", "/statusx", "/"}) {
        auto other = get(path);
        ASSERT_TRUE(other);
        EXPECT_EQ(other->status, 404) << path;
    }
    EXPECT_EQ(stopRunner(), 0);
}

TEST_F(QueueRunnerStatusHttpTest, AMachineThatCannotBeReachedShowsItsFailuresAndBackOff)
{
    addConfig("queue_runner_metrics_address = 127.0.0.1:" + std::to_string(port) + "\n");
    const std::string uri = "ssh://nobody@127.0.0.1:" + std::to_string(freeLoopbackPort());
    auto machines = state_ + "/machines";
    std::ofstream(machines) << uri << " x86_64-linux\n";
    NixGraph g;
    g.add("nowhere");
    auto drvs = g.derivations();
    rows_->queueBuild(rows_->jobset(), "nowhere", drvs.at("nowhere").drvPath, drvs.at("nowhere").out());
    startRunner(machines);
    auto m =
        waitForMachine(uri, [](const nlohmann::json& x) { return x["stats"]["consecutiveFailures"] >= 1; });
    const auto& stats = m["stats"];
    EXPECT_EQ(m["hostname"], uri);
    EXPECT_EQ(m["enabled"], true);
    EXPECT_GT(stats["lastFailure"].get<long long>(), 0) << m.dump();
    EXPECT_GE(stats["disabledUntil"].get<long long>(), stats["lastFailure"].get<long long>()) << m.dump();
    EXPECT_FALSE(stats.value("lastFailureMessage", "").empty()) << m.dump();
    EXPECT_EQ(stopRunner(), 0);
}

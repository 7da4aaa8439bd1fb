// hydra-server's pages of the farm now over real HTTP against a real database: the queue, its
// summary, running builds, latest evaluations and steps (rows as the daemons write them), and
// the machines and queue-runner status read from a real hydra-queue-runner, or said to be
// unreachable when it is not there.

#include "harness/free_port.hh"
#include "harness/http_receiver.hh"
#include "harness/nix_graph.hh"
#include "harness/queue_runner_fixture.hh"
#include "harness/server_fixture.hh"
#include "harness/web_rows.hh"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <thread>

namespace hydra::test {
namespace {

using namespace std::chrono_literals;

class ServerFarmTest : public ServerFixture {
protected:
    void SetUp() override
    {
        ServerFixture::SetUp();
        web = std::make_unique<WebRows>(conn());
    }

    static std::vector<int64_t> ids(const nlohmann::json& builds)
    {
        std::vector<int64_t> out;
        for (const auto& b : builds) out.push_back(b["id"].get<int64_t>());
        return out;
    }

    static bool has(const std::string& body, const std::string& what)
    {
        return body.find(what) != std::string::npos;
    }

    std::unique_ptr<WebRows> web;
};

BuildSpec queued(const std::string& job, const std::string& system = "x86_64-linux",
                 int64_t timestamp = 1700000000)
{
    BuildSpec s;
    s.job = job;
    s.system = system;
    s.finished = false;
    s.timestamp = timestamp;
    return s;
}

TEST_F(ServerFarmTest, QueueListsQueuedBuildsInHydrasOrder)
{
    int js = web->jobset("p", "main");
    auto a = web->build(js, queued("a"));
    auto done = web->build(js, BuildSpec{});
    auto b = web->build(js, queued("b"));
    auto bumped = web->build(js, queued("c"));
    exec(fmt::format("UPDATE Builds SET globalPriority = 5 WHERE id = {}", bumped));
    startServer();
    auto r = getJson("/queue");
    ASSERT_EQ(r.status, 200) << r.body;
    auto list = r.json();
    EXPECT_EQ(ids(list), (std::vector<int64_t>{bumped, a, b})) << "finished build " << done << " listed?";
    EXPECT_EQ(list[0]["finished"], 0);
    EXPECT_TRUE(list[0]["buildstatus"].is_null());
    EXPECT_EQ(list[0]["job"], "c");
    EXPECT_EQ(list[0]["project"], "p");
    EXPECT_EQ(list[0]["jobset"], "main");
    EXPECT_TRUE(list[0]["buildoutputs"].contains("out"));
    auto html = get("/queue");
    EXPECT_EQ(html.status, 200);
    EXPECT_TRUE(has(html.body, fmt::format("href=\"/build/{}\"", a))) << html.body;
    EXPECT_TRUE(has(html.body, "Queued"));
    EXPECT_FALSE(has(html.body, fmt::format("href=\"/build/{}\"", done)));
    EXPECT_FALSE(has(html.body, "Next")) << "one page only";
}

TEST_F(ServerFarmTest, QueuePagesWithoutCountingAndRefusesBadPages)
{
    int js = web->jobset("p", "main");
    std::vector<int64_t> all;
    all.reserve(102);
    for (int i = 0; i < 102; ++i) all.push_back(web->build(js, queued(fmt::format("j{:03}", i))));
    startServer();
    auto first = getJson("/queue").json();
    ASSERT_EQ(first.size(), 100u);
    EXPECT_EQ(first[0]["id"], all[0]);
    auto second = getJson("/queue?page=2").json();
    EXPECT_EQ(ids(second), (std::vector<int64_t>{all[100], all[101]}));
    EXPECT_TRUE(getJson("/queue?page=3").json().empty());
    auto html = get("/queue");
    EXPECT_TRUE(has(html.body, "href=\"/queue?page=2\"")) << html.body;
    auto last = get("/queue?page=2");
    EXPECT_FALSE(has(last.body, "href=\"/queue?page=3\""));
    EXPECT_TRUE(has(last.body, "href=\"/queue?page=1\""));
    for (const auto* bad : {"/queue?page=0", "/queue?page=x", "/queue?page=-1", "/queue?page=99999999999"}) {
        auto e = getJson(bad);
        EXPECT_EQ(e.status, 400) << bad;
        EXPECT_TRUE(e.json().contains("error")) << bad << ": " << e.body;
        EXPECT_EQ(get(bad).status, 400) << bad;
    }
}

TEST_F(ServerFarmTest, QueueSummaryCountsPerJobsetAndSystem)
{
    int main = web->jobset("p", "main");
    int other = web->jobset("q", "other");
    web->build(main, queued("a", "x86_64-linux", 1700000100));
    web->build(main, queued("b", "aarch64-linux", 1700000300));
    web->build(main, queued("c", "x86_64-linux", 1700000200));
    web->build(other, queued("d", "x86_64-linux", 1700000400));
    web->build(other, BuildSpec{}); // finished: not counted
    startServer();
    auto s = getJson("/queue-summary").json();
    ASSERT_EQ(s["jobsets"].size(), 2u) << s.dump();
    EXPECT_EQ(s["jobsets"][0], (nlohmann::json{{"project", "p"},
                                               {"jobset", "main"},
                                               {"queued", 3},
                                               {"oldest", 1700000100},
                                               {"newest", 1700000300}}));
    EXPECT_EQ(s["jobsets"][1]["project"], "q");
    EXPECT_EQ(s["jobsets"][1]["queued"], 1);
    EXPECT_EQ(s["systems"], (nlohmann::json::array({{{"system", "x86_64-linux"}, {"queued", 3}},
                                                    {{"system", "aarch64-linux"}, {"queued", 1}}})));
    auto html = get("/queue-summary");
    EXPECT_EQ(html.status, 200);
    EXPECT_TRUE(has(html.body, "href=\"/jobset/p/main\"")) << html.body;
    EXPECT_TRUE(has(html.body, "aarch64-linux"));
}

TEST_F(ServerFarmTest, EmptyQueueSaysSo)
{
    startServer();
    EXPECT_TRUE(getJson("/queue").json().empty());
    EXPECT_TRUE(has(get("/queue").body, "The queue is empty."));
    auto s = getJson("/queue-summary").json();
    EXPECT_TRUE(s["jobsets"].empty());
    EXPECT_TRUE(s["systems"].empty());
    EXPECT_TRUE(getJson("/status").json().empty());
    EXPECT_TRUE(has(get("/status").body, "No build is running."));
}

TEST_F(ServerFarmTest, StatusShowsBuildsWithRunningStepsTheirMachineAndStage)
{
    int js = web->jobset("p", "main");
    auto running = web->build(js, queued("running"));
    auto waiting = web->build(js, queued("waiting"));
    web->step(running, 1, "/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-dep.drv", 0);
    exec(fmt::format(
        "INSERT INTO BuildSteps (build, stepnr, type, drvPath, busy, startTime, machine, system) "
        "VALUES ({}, 2, 0, '/nix/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-top.drv', 30, 1700000500, "
        "'ssh://builder<b>1', 'x86_64-linux')",
        running));
    startServer();
    auto list = getJson("/status").json();
    ASSERT_EQ(ids(list), (std::vector<int64_t>{running})) << "waiting build " << waiting << " listed?";
    EXPECT_EQ(list[0]["job"], "running");
    ASSERT_EQ(list[0]["buildsteps"].size(), 1u) << list.dump();
    const auto& step = list[0]["buildsteps"][0];
    EXPECT_EQ(step["stepnr"], 2);
    EXPECT_EQ(step["busy"], 30);
    EXPECT_EQ(step["machine"], "ssh://builder<b>1");
    EXPECT_EQ(step["starttime"], 1700000500);
    EXPECT_EQ(step["drvpath"], "/nix/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-top.drv");
    auto html = get("/status");
    EXPECT_EQ(html.status, 200);
    EXPECT_TRUE(has(html.body, "building")) << html.body;
    EXPECT_TRUE(has(html.body, "ssh://builder&lt;b&gt;1")) << html.body;
    EXPECT_FALSE(has(html.body, "builder<b>"));
    EXPECT_TRUE(has(html.body, fmt::format("href=\"/build/{}/step/2\"", running)));
    EXPECT_TRUE(has(html.body, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-top.drv"));
}

TEST_F(ServerFarmTest, EvalsListsEvaluationsOfEveryJobsetNewestFirst)
{
    int main = web->jobset("p", "main");
    int other = web->jobset("q", "other");
    auto b1 = web->build(main);
    auto b2 = web->build(other);
    auto e1 = web->eval(main, {b1}, 1700000300);
    auto e2 = web->eval(other, {b2}, 1700000400);
    auto e3 = web->eval(main, {b1}, 1700000500);
    startServer();
    auto r = getJson("/evals");
    ASSERT_EQ(r.status, 200) << r.body;
    auto j = r.json();
    ASSERT_EQ(j["evals"].size(), 3u);
    EXPECT_EQ(j["evals"][0]["id"], e3);
    EXPECT_EQ(j["evals"][1]["id"], e2);
    EXPECT_EQ(j["evals"][2]["id"], e1);
    EXPECT_EQ(j["evals"][1]["builds"], nlohmann::json::array({b2}));
    EXPECT_EQ(j["evals"][1]["timestamp"], 1700000400);
    EXPECT_EQ(j["first"], "?page=1");
    EXPECT_FALSE(j.contains("previous"));
    auto html = get("/evals");
    EXPECT_EQ(html.status, 200);
    EXPECT_TRUE(has(html.body, fmt::format("href=\"/eval/{}\"", e2))) << html.body;
    EXPECT_TRUE(has(html.body, "href=\"/jobset/q/other\""));
    EXPECT_TRUE(getJson("/evals?page=2").json()["evals"].empty());
    EXPECT_EQ(getJson("/evals?page=abc").status, 400);
    EXPECT_EQ(get("/evals?page=0").status, 400);
}

TEST_F(ServerFarmTest, StepsListsFinishedStepsNewestFirstPaged)
{
    int js = web->jobset("p", "main");
    auto b = web->build(js);
    for (int i = 1; i <= 51; ++i)
        web->step(b, i, fmt::format("/nix/store/{:032}-s{}.drv", i, i), i == 51 ? 1 : 0,
                  "host<" + std::to_string(i), 1700000000 + i, 1700001000 + i);
    exec(fmt::format(
        "INSERT INTO BuildSteps (build, stepnr, type, drvPath, busy, startTime, machine) "
        "VALUES ({}, 52, 0, '/nix/store/cccccccccccccccccccccccccccccccc-run.drv', 30, 1700000000, 'x')",
        b));
    startServer();
    auto j = getJson("/steps").json();
    ASSERT_EQ(j["steps"].size(), 50u) << j.dump();
    EXPECT_EQ(j["steps"][0]["stepnr"], 51);
    EXPECT_EQ(j["steps"][0]["status"], 1);
    EXPECT_EQ(j["steps"][0]["build"], b);
    EXPECT_EQ(j["steps"][0]["project"], "p");
    EXPECT_EQ(j["steps"][0]["stoptime"], 1700001051);
    EXPECT_EQ(j["steps"][49]["stepnr"], 2);
    EXPECT_EQ(j["next"], "?page=2");
    auto second = getJson("/steps?page=2").json();
    ASSERT_EQ(second["steps"].size(), 1u) << "the running step is not finished";
    EXPECT_EQ(second["steps"][0]["stepnr"], 1);
    EXPECT_FALSE(second.contains("next"));
    EXPECT_EQ(second["previous"], "?page=1");
    auto html = get("/steps");
    EXPECT_EQ(html.status, 200);
    EXPECT_TRUE(has(html.body, fmt::format("href=\"/build/{}/step/51\"", b))) << html.body;
    EXPECT_TRUE(has(html.body, "host&lt;51"));
    EXPECT_TRUE(has(html.body, "href=\"/steps?page=2\""));
    EXPECT_EQ(getJson("/steps?page=1x").status, 400);
}

TEST_F(ServerFarmTest, MachinesAndStatusComeFromTheRealQueueRunner)
{
    int port = freeLoopbackPort();
    addConfig(fmt::format(
        "queue_runner_metrics_address = 127.0.0.1:{}\nqueue_runner_endpoint = http://127.0.0.1:{}", port,
        port));
    NixGraph g;
    g.add("slow").script = scripts::sleeping(6);
    auto slow = g.derivations().at("slow");
    BuildSpec spec = queued("slow");
    spec.drvPath = slow.drvPath;
    spec.outPath = slow.out();
    auto id = web->build(web->jobset("p", "main"), spec);
    TestDaemon runner(queueRunnerBinary(), stateDir() + "/queue-runner.log");
    runner.start(serverEnv(), {"NIX_REMOTE_SYSTEMS"});
    startServer();
    nlohmann::json machines;
    for (int i = 0; i < 150; ++i) {
        auto r = getJson("/machines");
        if (r.status == 200) machines = r.json();
        if (machines.contains("machines") && machines["machines"].contains("localhost") &&
            !machines["machines"]["localhost"]["jobs"].empty())
            break;
        std::this_thread::sleep_for(200ms);
    }
    ASSERT_TRUE(machines.contains("machines")) << runner.log();
    ASSERT_TRUE(machines["machines"].contains("localhost")) << machines.dump();
    EXPECT_EQ(machines["machinesCount"], 1);
    EXPECT_EQ(machines["machines"]["localhost"]["stats"]["currentJobs"], 1) << machines.dump();
    EXPECT_EQ(machines["machines"]["localhost"]["jobs"], nlohmann::json::array({slow.drvPath}));
    auto html = get("/machines");
    EXPECT_EQ(html.status, 200);
    EXPECT_TRUE(has(html.body, "<td>localhost</td>")) << html.body;
    EXPECT_TRUE(has(html.body, "enabled"));
    EXPECT_TRUE(has(html.body, "<code>" + slow.drvPath + "</code>")) << html.body;
    // The runner marks the step busy in the database: /status shows it, read from there.
    auto running = getJson("/status").json();
    for (int i = 0; i < 50 && running.empty(); ++i) {
        std::this_thread::sleep_for(100ms);
        running = getJson("/status").json();
    }
    ASSERT_EQ(ids(running), (std::vector<int64_t>{id})) << running.dump();
    EXPECT_EQ(running[0]["buildsteps"][0]["machine"], "localhost");
    EXPECT_EQ(running[0]["buildsteps"][0]["drvpath"], slow.drvPath);
    auto status = getJson("/queue-runner-status");
    ASSERT_EQ(status.status, 200) << status.body;
    EXPECT_EQ(status.json()["status"], "up");
    EXPECT_TRUE(status.json().contains("nrStepsDone"));
    auto page = get("/queue-runner-status");
    EXPECT_EQ(page.status, 200);
    EXPECT_TRUE(has(page.body, "<pre>")) << page.body;
    EXPECT_TRUE(has(page.body, "&quot;nrStepsDone&quot;")) << page.body;
    EXPECT_EQ(runner.stop(), 0);
}

TEST_F(ServerFarmTest, AnUnreachableQueueRunnerIsNamedWithTheReason)
{
    int port = freeLoopbackPort();
    auto endpoint = fmt::format("http://127.0.0.1:{}", port);
    addConfig("queue_runner_endpoint = " + endpoint);
    startServer();
    auto html = get("/machines");
    EXPECT_EQ(html.status, 200);
    EXPECT_TRUE(has(html.body, "the queue runner cannot be reached at " + endpoint + "/status/machines: "))
        << html.body;
    auto json = getJson("/machines");
    EXPECT_EQ(json.status, 503);
    EXPECT_TRUE(has(json.json()["error"].get<std::string>(), "cannot be reached at " + endpoint))
        << json.body;
    auto status = getJson("/queue-runner-status");
    EXPECT_EQ(status.status, 503);
    EXPECT_TRUE(has(status.json()["error"].get<std::string>(), endpoint + "/status: ")) << status.body;
    EXPECT_EQ(get("/queue-runner-status").status, 200);
}

TEST_F(ServerFarmTest, WithoutAnEndpointThePagesSaySo)
{
    startServer();
    auto html = get("/machines");
    EXPECT_EQ(html.status, 200);
    EXPECT_TRUE(has(html.body, "hydra.conf sets no queue_runner_endpoint")) << html.body;
    auto json = getJson("/queue-runner-status");
    EXPECT_EQ(json.status, 503);
    EXPECT_TRUE(has(json.json()["error"].get<std::string>(), "queue_runner_endpoint")) << json.body;
}

TEST_F(ServerFarmTest, ManyClientsCostOneFetchAndBadAnswersAreNamed)
{
    HttpReceiver runner; // answers 200 with {}: no machines in it
    addConfig("queue_runner_endpoint = " + runner.url() + "/prefix/");
    startServer();
    std::vector<std::thread> clients;
    std::vector<HttpReply> replies(8);
    for (size_t i = 0; i < replies.size(); ++i)
        clients.emplace_back([&, i] { replies[i] = getJson("/machines"); });
    for (auto& t : clients) t.join();
    for (const auto& r : replies) {
        EXPECT_EQ(r.status, 503);
        EXPECT_TRUE(has(r.body, "the queue runner at " + runner.url() +
                                    "/prefix/status/machines answered without a "
                                    "list of machines"))
            << r.body;
    }
    auto seen = runner.requests();
    ASSERT_EQ(seen.size(), 1u) << "each client fetched";
    EXPECT_EQ(seen[0].target, "/prefix/status/machines");
    std::this_thread::sleep_for(1100ms);
    runner.replyWith(500);
    auto r = getJson("/machines");
    EXPECT_EQ(r.status, 503);
    EXPECT_TRUE(has(r.body, "it answered HTTP 500")) << r.body;
    EXPECT_EQ(runner.requests().size(), 2u);
}

} // namespace
} // namespace hydra::test

// hydra-server's job routes over real HTTP against a real database: the job page, the
// latest-* redirects and the "all" lists on every level, the shield and the series.

#include "harness/server_fixture.hh"
#include "harness/web_rows.hh"

#include <gtest/gtest.h>

namespace hydra::test {
namespace {

class ServerJobsTest : public ServerFixture {
protected:
    void SetUp() override
    {
        ServerFixture::SetUp();
        web = std::make_unique<WebRows>(conn());
    }
    int64_t build(int jobset, const std::string& job, int status, bool finished = true,
                  const std::string& system = "x86_64-linux")
    {
        BuildSpec s;
        s.job = job;
        s.buildStatus = status;
        s.finished = finished;
        s.system = system;
        s.nixName = job + "-1.0";
        return web->build(jobset, s);
    }
    static std::string buildUrl(int64_t id) { return "/build/" + std::to_string(id); }
    std::unique_ptr<WebRows> web;
};

TEST_F(ServerJobsTest, JobPageShowsItsLastTenFinishedAndItsQueuedBuilds)
{
    int js = web->jobset("p", "js");
    std::vector<int64_t> finished;
    for (int i = 0; i < 12; ++i) finished.push_back(build(js, "hello", i % 3 == 0 ? 1 : 0));
    auto queued = build(js, "hello", 0, false);
    auto other = build(js, "other", 0);
    startServer();
    auto html = get("/job/p/js/hello");
    ASSERT_EQ(html.status, 200) << html.body;
    for (size_t i = 2; i < finished.size(); ++i)
        EXPECT_NE(html.body.find("href=\"" + buildUrl(finished[i]) + "\""), std::string::npos) << finished[i];
    EXPECT_EQ(html.body.find("href=\"" + buildUrl(finished[1]) + "\""), std::string::npos);
    EXPECT_EQ(html.body.find("href=\"" + buildUrl(other) + "\""), std::string::npos);
    EXPECT_NE(html.body.find("Queued builds"), std::string::npos);
    EXPECT_NE(html.body.find("href=\"" + buildUrl(queued) + "\""), std::string::npos);
    EXPECT_NE(html.body.find("<table"), std::string::npos);

    auto j = getJson("/job/p/js/hello").json();
    EXPECT_EQ(j["project"], "p");
    EXPECT_EQ(j["jobset"], "js");
    EXPECT_EQ(j["job"], "hello");
    std::vector<int64_t> newest(finished.rbegin(), finished.rbegin() + 10);
    EXPECT_EQ(idsOf(j["lastbuilds"]), newest);
    EXPECT_EQ(idsOf(j["queuedbuilds"]), std::vector<int64_t>{queued});
    EXPECT_EQ(j["lastbuilds"][0]["job"], "hello");
    EXPECT_EQ(j["queuedbuilds"][0]["buildstatus"], nullptr);
}

TEST_F(ServerJobsTest, JobOfAMissingJobsetIs404WithAMessage)
{
    web->jobset("p", "js");
    startServer();
    auto r = getJson("/job/p/nope/hello");
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(r.json()["error"], "jobset ‘p:nope’ does not exist");
    EXPECT_EQ(get("/job/p/nope/hello").status, 404);
    EXPECT_EQ(getJson("/job/nope/js/hello/shield").status, 404);
    EXPECT_EQ(getJson("/job/p/nope/hello/all").status, 404);
    EXPECT_EQ(getJson("/job/p/nope/hello/latest").status, 404);
    // A job without builds has an empty page, as in Hydra.
    auto empty = getJson("/job/p/js/never").json();
    EXPECT_TRUE(empty["lastbuilds"].empty());
}

TEST_F(ServerJobsTest, LatestGoesToTheNewestSuccessfulBuildOnEveryLevel)
{
    int js = web->jobset("p", "js");
    int other = web->jobset("q", "js2");
    auto ok = build(js, "hello", 0);
    auto arm = build(js, "hello", 0, true, "aarch64-linux");
    build(js, "hello", 1);        // newer but failed
    build(js, "hello", 0, false); // newer but queued
    auto elsewhere = build(other, "hello", 0);
    startServer();
    auto r = get("/job/p/js/hello/latest");
    EXPECT_EQ(r.status, 302);
    EXPECT_EQ(r.header("Location"), buildUrl(arm));
    EXPECT_EQ(get("/job/p/js/hello/latest-for/x86_64-linux").header("Location"), buildUrl(ok));
    EXPECT_EQ(get("/job/p/js/hello/latest-for/x86_64-linux/download/1").header("Location"),
              buildUrl(ok) + "/download/1");
    EXPECT_EQ(get("/job/p/js/hello/latest/output/out").header("Location"), buildUrl(arm) + "/output/out");
    EXPECT_EQ(get("/jobset/p/js/latest").header("Location"), buildUrl(arm));
    EXPECT_EQ(get("/project/p/latest").header("Location"), buildUrl(arm));
    EXPECT_EQ(get("/project/q/latest").header("Location"), buildUrl(elsewhere));
    EXPECT_EQ(get("/latest").header("Location"), buildUrl(elsewhere));
    EXPECT_EQ(get("/latest-for/aarch64-linux").header("Location"), buildUrl(arm));

    auto none = getJson("/job/p/js/hello/latest-for/riscv64-linux");
    EXPECT_EQ(none.status, 404);
    EXPECT_EQ(none.json()["error"],
              "there is no successful build of ‘p:js:hello’ for platform ‘riscv64-linux’");
    EXPECT_EQ(getJson("/job/p/js/other/latest").json()["error"],
              "there is no successful build of ‘p:js:other’");
    EXPECT_EQ(getJson("/project/nope/latest").json()["error"], "project ‘nope’ does not exist");
    EXPECT_EQ(getJson("/jobset/p/nope/latest-finished").status, 404);
}

TEST_F(ServerJobsTest, LatestFinishedSkipsEvaluationsWithUnfinishedBuilds)
{
    int js = web->jobset("p", "js");
    auto done = build(js, "hello", 0);
    web->eval(js, {done});
    auto newer = build(js, "hello", 0);
    auto pending = build(js, "world", 0, false);
    web->eval(js, {newer, pending});
    auto alone = build(js, "hello", 0); // in no evaluation at all
    startServer();
    EXPECT_EQ(get("/job/p/js/hello/latest").header("Location"), buildUrl(alone));
    auto r = get("/job/p/js/hello/latest-finished");
    EXPECT_EQ(r.status, 302);
    EXPECT_EQ(r.header("Location"), buildUrl(done));
    EXPECT_EQ(get("/jobset/p/js/latest-finished/log").header("Location"), buildUrl(done) + "/log");
    EXPECT_EQ(get("/latest-finished").header("Location"), buildUrl(done));
    exec("UPDATE Builds SET finished = 1, buildStatus = 0, startTime = 1, stopTime = 2 WHERE id = " +
         std::to_string(pending));
    EXPECT_EQ(get("/job/p/js/hello/latest-finished").header("Location"), buildUrl(newer));
    EXPECT_EQ(getJson("/job/p/js/none/latest-finished").json()["error"],
              "there is no successful build of ‘p:js:none’ in a finished evaluation");
}

TEST_F(ServerJobsTest, AllListsFinishedBuildsTwentyAPageOnEveryLevel)
{
    int js = web->jobset("p", "js");
    std::vector<int64_t> mine;
    for (int i = 0; i < 25; ++i) {
        BuildSpec s;
        s.stopTime = 1700000200 + i; // newest stop time last, as the ids
        s.buildStatus = i % 2;
        mine.push_back(web->build(js, s));
    }
    build(js, "hello", 0, false); // queued: not listed
    startServer();
    std::vector<int64_t> newest(mine.rbegin(), mine.rend());
    for (std::string base : {"/job/p/js/hello/all", "/jobset/p/js/all", "/project/p/all", "/all"}) {
        auto first = getJson(base);
        ASSERT_EQ(first.status, 200) << base << first.body;
        auto j = first.json();
        EXPECT_EQ(idsOf(j["builds"]), std::vector<int64_t>(newest.begin(), newest.begin() + 20)) << base;
        EXPECT_EQ(j["first"], "?page=1");
        EXPECT_EQ(j["last"], "?page=2");
        EXPECT_EQ(j["next"], "?page=2");
        EXPECT_FALSE(j.contains("previous"));
        auto second = getJson(base + "?page=2").json();
        EXPECT_EQ(idsOf(second["builds"]), std::vector<int64_t>(newest.begin() + 20, newest.end())) << base;
        EXPECT_EQ(second["previous"], "?page=1");
        EXPECT_FALSE(second.contains("next"));
        EXPECT_TRUE(getJson(base + "?page=7").json()["builds"].empty());
        auto html = get(base + "?page=2");
        EXPECT_EQ(html.status, 200);
        EXPECT_NE(html.body.find("href=\"" + base + "?page=1\""), std::string::npos) << html.body;
        EXPECT_NE(html.body.find("href=\"" + buildUrl(mine[0]) + "\""), std::string::npos);
        EXPECT_EQ(getJson(base + "?page=0").status, 400);
        auto bad = getJson(base + "?page=x");
        EXPECT_EQ(bad.status, 400);
        EXPECT_EQ(bad.json()["error"], "‘x’ is not a valid page number (1 to 10000)");
    }
    EXPECT_EQ(getJson("/project/nope/all").json()["error"], "project ‘nope’ does not exist");
}

TEST_F(ServerJobsTest, ShieldFollowsTheNewestFinishedBuild)
{
    int js = web->jobset("p", "js");
    build(js, "hello", 1);
    auto last = build(js, "hello", 0);
    build(js, "hello", 0, false); // queued builds do not count
    startServer();
    auto r = get("/job/p/js/hello/shield");
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.header("Content-Type"), "application/json");
    EXPECT_EQ(r.body, R"({"color":"green","label":"hydra build","message":"passing","schemaVersion":1})");
    exec("UPDATE Builds SET buildStatus = 4 WHERE id = " + std::to_string(last));
    auto cancelled = get("/job/p/js/hello/shield").json();
    EXPECT_EQ(cancelled["color"], "yellow");
    EXPECT_EQ(cancelled["message"], "cancelled");
    for (int status : {1, 2, 3, 7}) {
        exec("UPDATE Builds SET buildStatus = " + std::to_string(status) +
             " WHERE id = " + std::to_string(last));
        auto failing = get("/job/p/js/hello/shield").json();
        EXPECT_EQ(failing["color"], "red") << status;
        EXPECT_EQ(failing["message"], "failing") << status;
    }
    auto none = get("/job/p/js/nothing/shield");
    EXPECT_EQ(none.status, 404);
    EXPECT_EQ(getJson("/job/p/js/nothing/shield").json()["error"],
              "job ‘p:js:nothing’ has no finished build");
}

TEST_F(ServerJobsTest, SeriesOfTimesSizesAndMetricsAreOldestFirst)
{
    int js = web->jobset("p", "js");
    auto a = build(js, "hello", 0);
    auto b = build(js, "hello", 0);
    auto failed = build(js, "hello", 1);
    auto cached = build(js, "hello", 0);
    exec("UPDATE Builds SET closureSize = id * 1000, size = id * 10 WHERE id IN (" + std::to_string(a) + "," +
         std::to_string(b) + "," + std::to_string(failed) + ")");
    exec("UPDATE Builds SET closureSize = 0, size = 0 WHERE id = " + std::to_string(cached));
    for (auto id : {a, b}) {
        auto drv = exec("SELECT drvPath FROM Builds WHERE id = " + std::to_string(id));
        web->step(id, 1, drv, 0, "localhost", 100, 100 + id);
    }
    exec("INSERT INTO BuildMetrics (build, name, unit, value, project, jobset, job, timestamp) VALUES (" +
         std::to_string(b) + ", 'coverage', '%', 81.5, 'p', 'js', 'hello', 20), (" + std::to_string(a) +
         ", 'coverage', '%', 80, 'p', 'js', 'hello', 10), (" + std::to_string(a) +
         ", 'other', NULL, 1, 'p', 'js', 'hello', 10)");
    startServer();
    auto sizes = get("/job/p/js/hello/closure-sizes").json();
    EXPECT_EQ(sizes, nlohmann::json::parse(
                         "[{\"id\":" + std::to_string(a) + ",\"timestamp\":1700000000,\"value\":" +
                         std::to_string(a * 1000) + "},{\"id\":" + std::to_string(b) +
                         ",\"timestamp\":1700000000,\"value\":" + std::to_string(b * 1000) + "}]"));
    auto outputs = get("/job/p/js/hello/output-sizes").json();
    ASSERT_EQ(outputs.size(), 2u);
    EXPECT_EQ(outputs[1]["value"], b * 10);
    auto times = get("/job/p/js/hello/build-times").json();
    ASSERT_EQ(times.size(), 2u);
    EXPECT_EQ(times[0]["id"], a);
    EXPECT_EQ(times[0]["value"], a);
    EXPECT_EQ(times[1]["value"], b);
    auto metric = get("/job/p/js/hello/metric/coverage").json();
    ASSERT_EQ(metric.size(), 2u);
    EXPECT_EQ(metric[0], (nlohmann::json{{"id", a}, {"timestamp", 10}, {"value", 80.0}, {"unit", "%"}}));
    EXPECT_EQ(metric[1]["value"], 81.5);
    EXPECT_EQ(get("/job/p/js/hello/metric/other").json()[0]["unit"], nullptr);
    EXPECT_TRUE(get("/job/p/js/hello/metric/none").json().empty());
    EXPECT_EQ(get("/job/p/js/hello/closure-sizes?nr=1").json().size(), 1u);
    EXPECT_EQ(get("/job/p/js/hello/closure-sizes?nr=1").json()[0]["id"], b);
    EXPECT_EQ(getJson("/job/p/js/hello/build-times?nr=0").status, 400);
    EXPECT_EQ(getJson("/job/p/js/hello/metric/coverage?nr=x").status, 400);
}

} // namespace
} // namespace hydra::test

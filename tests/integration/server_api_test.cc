// hydra-server's /search and /api read endpoints over real HTTP against a real database:
// Hydra's shapes field by field, bounds, and a 400 or 404 with a message for bad input.

#include "harness/server_fixture.hh"
#include "harness/web_rows.hh"

#include <gtest/gtest.h>

namespace hydra::test {
namespace {

class ServerApiTest : public ServerFixture {
protected:
    void SetUp() override
    {
        ServerFixture::SetUp();
        web = std::make_unique<WebRows>(conn());
    }
    int64_t build(int jobset, const std::string& job, bool finished = true, int status = 0,
                  const std::string& system = "x86_64-linux")
    {
        BuildSpec s;
        s.job = job;
        s.finished = finished;
        s.buildStatus = status;
        s.system = system;
        s.nixName = job + "-2.0";
        return web->build(jobset, s);
    }
    std::unique_ptr<WebRows> web;
};

TEST_F(ServerApiTest, SearchFindsProjectsJobsetsAndBuildsByPath)
{
    web->jobset("compilers", "gcc-trunk");
    web->project("gcc-tools");
    web->jobset("tools", "nightly");
    web->project("gcc-secret", /*hidden=*/true);
    int js = web->jobset("tools", "tarballs");
    BuildSpec s;
    s.outPath = "/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-gcc-13";
    s.drvPath = "/nix/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-gcc-13.drv";
    auto gcc = web->build(js, s);
    web->build(js); // another path
    startServer();
    auto j = getJson("/search?query=gcc").json();
    ASSERT_EQ(j["projects"].size(), 1u) << j.dump();
    EXPECT_EQ(j["projects"][0]["name"], "gcc-tools"); // not the hidden gcc-secret
    EXPECT_EQ(j["projects"][0]["owner"], "root");
    ASSERT_EQ(j["jobsets"].size(), 1u);
    EXPECT_EQ(j["jobsets"][0]["name"], "gcc-trunk");
    EXPECT_EQ(j["jobsets"][0]["project"], "compilers");
    EXPECT_EQ(j["jobsets"][0]["nixexprpath"], "release.nix");
    EXPECT_TRUE(j["builds"].empty());
    EXPECT_TRUE(j["buildsdrv"].empty());

    auto byOut = getJson("/search?query=" + s.outPath).json();
    EXPECT_EQ(idsOf(byOut["builds"]), std::vector<int64_t>{gcc});
    EXPECT_EQ(byOut["builds"][0]["buildoutputs"]["out"]["path"], s.outPath);
    EXPECT_TRUE(byOut["buildsdrv"].empty());
    auto byDrv = getJson("/search?query=" + s.drvPath).json();
    EXPECT_EQ(idsOf(byDrv["buildsdrv"]), std::vector<int64_t>{gcc});
    EXPECT_TRUE(byDrv["builds"].empty());

    auto html = get("/search?query=gcc");
    EXPECT_EQ(html.status, 200);
    EXPECT_NE(html.body.find("href=\"/jobset/compilers/gcc-trunk\""), std::string::npos) << html.body;
    EXPECT_EQ(html.body.find("gcc-secret"), std::string::npos);
    EXPECT_EQ(getJson("/search?query=nightly&limit=1").json()["jobsets"].size(), 1u);
}

TEST_F(ServerApiTest, SearchRefusesEmptyShortAndOddQueries)
{
    startServer();
    auto missing = getJson("/search");
    EXPECT_EQ(missing.status, 400);
    EXPECT_EQ(missing.json()["error"], "the query is empty");
    EXPECT_EQ(getJson("/search?query=%20%20").json()["error"], "the query is empty");
    auto shortQuery = getJson("/search?query=g");
    EXPECT_EQ(shortQuery.status, 400);
    EXPECT_EQ(shortQuery.json()["error"], "the query ‘g’ is too short (2 characters at least)");
    auto odd = getJson("/search?query=gcc%25");
    EXPECT_EQ(odd.status, 400);
    EXPECT_EQ(odd.json()["error"], "the query has a character other than letters, digits and _ - / .");
    EXPECT_EQ(get("/search?query=%3Cscript%3E").status, 400);
    EXPECT_EQ(getJson("/search?query=gcc&limit=0").status, 400);
    EXPECT_EQ(getJson("/search?query=gcc&limit=51").status, 400);
}

TEST_F(ServerApiTest, LatestBuildsAreTheNewestFinishedOnesFiltered)
{
    int a = web->jobset("p", "a");
    int b = web->jobset("q", "b");
    auto one = build(a, "hello");
    auto two = build(a, "world", true, 1, "aarch64-linux");
    build(a, "hello", false); // queued: not listed
    auto three = build(b, "hello");
    startServer();
    auto r = get("/api/latestbuilds?nr=10");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.header("Content-Type"), "application/json");
    auto j = r.json();
    EXPECT_EQ(idsOf(j), (std::vector<int64_t>{three, two, one}));
    EXPECT_EQ(j[1], (nlohmann::json{{"id", two},
                                    {"project", "p"},
                                    {"jobset", "a"},
                                    {"job", "world"},
                                    {"system", "aarch64-linux"},
                                    {"nixname", "world-2.0"},
                                    {"finished", 1},
                                    {"timestamp", 1700000000},
                                    {"buildstatus", 1}}));
    EXPECT_EQ(idsOf(get("/api/latestbuilds?nr=2").json()), (std::vector<int64_t>{three, two}));
    EXPECT_EQ(idsOf(get("/api/latestbuilds?nr=10&project=p").json()), (std::vector<int64_t>{two, one}));
    EXPECT_EQ(idsOf(get("/api/latestbuilds?nr=10&project=p&jobset=a&job=hello").json()),
              std::vector<int64_t>{one});
    EXPECT_EQ(idsOf(get("/api/latestbuilds?nr=10&system=aarch64-linux").json()), std::vector<int64_t>{two});
    EXPECT_EQ(idsOf(get("/api/latestbuilds?nr=10&project=&job=").json()).size(), 3u); // empty: no filter
    EXPECT_TRUE(get("/api/latestbuilds?nr=10&project=nope").json().empty());
}

TEST_F(ServerApiTest, LatestBuildsAndQueueNeedAValidNr)
{
    startServer();
    for (std::string path : {"/api/latestbuilds", "/api/queue"}) {
        auto none = get(path);
        EXPECT_EQ(none.status, 400) << path;
        EXPECT_EQ(none.json()["error"], "the parameter ‘nr’ is required");
        EXPECT_EQ(get(path + "?nr=abc").status, 400);
        EXPECT_EQ(get(path + "?nr=0").status, 400);
        EXPECT_EQ(get(path + "?nr=1001").status, 400);
        EXPECT_EQ(get(path + "?nr=1000").status, 200);
    }
}

TEST_F(ServerApiTest, QueueIsByPriorityAndNrQueueCountsIt)
{
    int js = web->jobset("p", "a");
    auto first = build(js, "hello", false);
    auto second = build(js, "world", false);
    build(js, "done");
    exec("UPDATE Builds SET priority = 50 WHERE id = " + std::to_string(second));
    startServer();
    auto j = get("/api/queue?nr=10").json();
    EXPECT_EQ(idsOf(j), (std::vector<int64_t>{second, first}));
    EXPECT_EQ(j[0]["priority"], 50);
    EXPECT_EQ(j[0]["finished"], 0);
    EXPECT_FALSE(j[0].contains("buildstatus"));
    EXPECT_EQ(idsOf(get("/api/queue?nr=1").json()), std::vector<int64_t>{second});
    auto nr = get("/api/nrqueue");
    EXPECT_EQ(nr.status, 200);
    EXPECT_EQ(nr.body, "2");
    EXPECT_NE(nr.header("Content-Type").find("text/plain"), std::string::npos);
}

TEST_F(ServerApiTest, JobsetsCountTheirCurrentBuilds)
{
    int js = web->jobset("p", "a");
    web->jobset("p", "b");
    build(js, "ok");
    build(js, "bad", true, 1);
    build(js, "waiting", false);
    BuildSpec old;
    old.isCurrent = 0;
    web->build(js, old);
    exec("UPDATE Jobsets SET errorMsg = 'boom', errorTime = 5, lastCheckedTime = 7 WHERE name = 'a'");
    startServer();
    auto j = get("/api/jobsets?project=p").json();
    ASSERT_EQ(j.size(), 2u);
    EXPECT_EQ(j[0], (nlohmann::json{{"project", "p"},
                                    {"name", "a"},
                                    {"nrscheduled", 1},
                                    {"nrsucceeded", 1},
                                    {"nrfailed", 1},
                                    {"nrtotal", 3},
                                    {"lastcheckedtime", 7},
                                    {"starttime", nullptr},
                                    {"checkinterval", 300},
                                    {"triggertime", nullptr},
                                    {"fetcherrormsg", nullptr},
                                    {"errortime", 5},
                                    {"haserrormsg", true}}));
    EXPECT_EQ(j[1]["name"], "b");
    EXPECT_EQ(j[1]["haserrormsg"], false);
    EXPECT_EQ(j[1]["nrtotal"], 0);
    auto missing = get("/api/jobsets");
    EXPECT_EQ(missing.status, 400);
    EXPECT_EQ(missing.json()["error"], "the parameter ‘project’ is required");
    auto unknown = get("/api/jobsets?project=nope");
    EXPECT_EQ(unknown.status, 404);
    EXPECT_EQ(unknown.json()["error"], "project ‘nope’ does not exist");
}

} // namespace
} // namespace hydra::test

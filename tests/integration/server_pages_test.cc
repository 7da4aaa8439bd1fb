// hydra-server's project, jobset, evaluation and build routes over real HTTP against a real
// database: status codes, HTML, JSON field by field in Hydra's shapes, redirects, paging.

#include "harness/server_fixture.hh"
#include "harness/web_rows.hh"

#include "util/process.hh"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace hydra::test {
namespace {

class ServerPagesTest : public ServerFixture {
protected:
    void SetUp() override
    {
        ServerFixture::SetUp();
        web = std::make_unique<WebRows>(conn());
    }
    std::unique_ptr<WebRows> web;
};

TEST_F(ServerPagesTest, OverviewListsProjectsAsHtmlAndJson)
{
    web->project("alpha");
    web->project("secret", /*hidden=*/true);
    web->jobset("alpha", "main");
    startServer();
    auto html = get("/");
    EXPECT_EQ(html.status, 200);
    EXPECT_EQ(html.header("Vary"), "Accept");
    EXPECT_NE(html.header("Content-Type").find("text/html"), std::string::npos);
    EXPECT_NE(html.body.find("href=\"/project/alpha\""), std::string::npos) << html.body;
    EXPECT_EQ(html.body.find("secret"), std::string::npos);
    auto json = getJson("/").json();
    ASSERT_TRUE(json.is_array());
    ASSERT_EQ(json.size(), 1u);
    EXPECT_EQ(json[0]["name"], "alpha");
    EXPECT_EQ(json[0]["displayname"], "alpha");
    EXPECT_EQ(json[0]["description"], "the project alpha");
    EXPECT_EQ(json[0]["homepage"], "");
    EXPECT_EQ(json[0]["owner"], "root");
    EXPECT_EQ(json[0]["enabled"], true);
    EXPECT_EQ(json[0]["hidden"], false);
    EXPECT_EQ(json[0]["enable_dynamic_run_command"], false);
    EXPECT_EQ(json[0]["jobsets"], nlohmann::json::array({"main"}));
    EXPECT_FALSE(json[0].contains("declarative"));
    // Hydra's other ways of asking for JSON.
    EXPECT_TRUE(get("/?content-type=application/json").json().is_array());
    EXPECT_TRUE(get("/", {{"Content-Type", "application/json"}}).json().is_array());
}

TEST_F(ServerPagesTest, JobsetJsonHasHydrasFieldsAndTypes)
{
    web->jobset("p", "js");
    startServer();
    auto r = getJson("/jobset/p/js");
    ASSERT_EQ(r.status, 200) << r.body;
    auto j = r.json();
    EXPECT_EQ(j["name"], "js");
    EXPECT_EQ(j["project"], "p");
    EXPECT_EQ(j["nixexprinput"], "src");
    EXPECT_EQ(j["nixexprpath"], "release.nix");
    for (auto key : {"errormsg", "emailoverride", "fetcherrormsg", "flake"}) EXPECT_EQ(j[key], "") << key;
    for (auto key : {"errortime", "lastcheckedtime", "triggertime", "starttime"})
        EXPECT_TRUE(j[key].is_null()) << key;
    EXPECT_EQ(j["type"], 0);
    EXPECT_EQ(j["enabled"], 1);
    EXPECT_EQ(j["keepnr"], 3);
    EXPECT_EQ(j["checkinterval"], 300);
    EXPECT_EQ(j["schedulingshares"], 100);
    EXPECT_EQ(j["enableemail"], true);
    EXPECT_EQ(j["visible"], true);
    EXPECT_EQ(j["enable_dynamic_run_command"], false);
    EXPECT_EQ(j["inputs"]["src"],
              (nlohmann::json{
                  {"name", "src"}, {"type", "path"}, {"value", "/srv/src"}, {"emailresponsible", false}}));
    auto p = getJson("/project/p").json();
    EXPECT_EQ(p["jobsets"], nlohmann::json::array({"js"}));
}

TEST_F(ServerPagesTest, BuildJsonAndPageShowStatusStepsAndEvaluations)
{
    auto js = web->jobset("p", "js");
    auto ok = web->build(js, {.job = "good", .nixName = "good-1"});
    auto bad = web->build(js, {.job = "bad", .nixName = "bad-1", .buildStatus = 1});
    auto queued = web->build(js, {.job = "later", .nixName = "later-1", .finished = false});
    auto e = web->eval(js, {ok, bad, queued});
    web->step(bad, 1, "/nix/store/00000000000000000000000000000000-bad-1.drv", 1, "builder1");
    exec("UPDATE BuildSteps SET errorMsg = 'builder failed with exit code 1' WHERE build = " +
         std::to_string(bad));
    startServer();

    auto b = getJson("/build/" + std::to_string(ok)).json();
    EXPECT_EQ(b["id"], ok);
    EXPECT_EQ(b["finished"], 1);
    EXPECT_EQ(b["buildstatus"], 0);
    EXPECT_EQ(b["project"], "p");
    EXPECT_EQ(b["jobset"], "js");
    EXPECT_EQ(b["job"], "good");
    EXPECT_EQ(b["nixname"], "good-1");
    EXPECT_EQ(b["system"], "x86_64-linux");
    EXPECT_EQ(b["priority"], 0);
    EXPECT_EQ(b["timestamp"], 1700000000);
    EXPECT_EQ(b["starttime"], 1700000100);
    EXPECT_EQ(b["stoptime"], 1700000200);
    EXPECT_TRUE(b["releasename"].is_null());
    EXPECT_EQ(b["jobsetevals"], nlohmann::json::array({e}));
    EXPECT_TRUE(b["buildoutputs"]["out"]["path"].get<std::string>().ends_with("-good-1"));
    EXPECT_TRUE(b["buildproducts"].is_object());
    EXPECT_TRUE(b["buildmetrics"].is_object());
    EXPECT_TRUE(b["drvpath"].get<std::string>().ends_with("-good-1.drv"));

    auto q = getJson("/build/" + std::to_string(queued)).json();
    EXPECT_EQ(q["finished"], 0);
    EXPECT_TRUE(q["buildstatus"].is_null());

    auto page = get("/build/" + std::to_string(bad));
    EXPECT_EQ(page.status, 200);
    EXPECT_NE(page.body.find("Failed"), std::string::npos);
    EXPECT_NE(page.body.find("s-bad"), std::string::npos);
    EXPECT_NE(page.body.find("builder1"), std::string::npos);
    EXPECT_NE(page.body.find("builder failed with exit code 1"), std::string::npos);
    EXPECT_NE(page.body.find("/build/" + std::to_string(bad) + "/step/1/log"), std::string::npos);

    auto step = getJson("/build/" + std::to_string(bad) + "/step/1").json();
    EXPECT_EQ(step["machine"], "builder1");
    EXPECT_EQ(step["status"], 1);
    EXPECT_EQ(getJson("/build/" + std::to_string(bad) + "/step/2").status, 404);

    auto info = getJson("/build/" + std::to_string(ok) + "/api/get-info").json();
    EXPECT_EQ(info["buildId"], ok);
    EXPECT_EQ(info["drvPath"], b["drvpath"]);
    EXPECT_EQ(info["outPath"], b["buildoutputs"]["out"]["path"]);
}

TEST_F(ServerPagesTest, EvaluationComparesWithThePreviousOne)
{
    auto js = web->jobset("p", "js");
    auto a1 = web->build(js, {.job = "a"});
    auto b1 = web->build(js, {.job = "b", .buildStatus = 1});
    auto c1 = web->build(js, {.job = "c"});
    auto e1 = web->eval(js, {a1, b1, c1}, 1700000300);
    auto a2 = web->build(js, {.job = "a", .buildStatus = 1});
    auto b2 = web->build(js, {.job = "b"});
    auto d2 = web->build(js, {.job = "d"});
    auto q2 = web->build(js, {.job = "c", .finished = false});
    auto e2 = web->eval(js, {a2, b2, d2, q2}, 1700000400);
    startServer();

    auto plain = getJson("/eval/" + std::to_string(e2)).json();
    EXPECT_EQ(plain["id"], e2);
    EXPECT_EQ(plain["hasnewbuilds"], 1);
    EXPECT_EQ(plain["checkouttime"], 1);
    EXPECT_EQ(plain["evaltime"], 2);
    EXPECT_EQ(plain["builds"], nlohmann::json::array({a2, b2, d2, q2}));
    EXPECT_EQ(plain["jobsetevalinputs"]["src"]["revision"], "abcdef0123456789");
    EXPECT_EQ(plain["jobsetevalinputs"]["src"]["type"], "git");
    EXPECT_EQ(plain["jobsetevalinputs"]["src"]["uri"], "https://example.org/src.git");
    EXPECT_FALSE(plain.contains("comparison"));

    auto cmp = getJson("/eval/" + std::to_string(e2) + "?compare=" + std::to_string(e1)).json()["comparison"];
    EXPECT_EQ(cmp["now_failing"], nlohmann::json::array({a2}));
    EXPECT_EQ(cmp["now_succeeding"], nlohmann::json::array({b2}));
    EXPECT_EQ(cmp["new"], nlohmann::json::array({d2}));
    EXPECT_EQ(cmp["unfinished"], nlohmann::json::array({q2}));
    EXPECT_EQ(cmp["removed"], nlohmann::json::array());

    auto html = get("/eval/" + std::to_string(e2)).body;
    EXPECT_NE(html.find("Now failing (1)"), std::string::npos) << html;
    EXPECT_NE(html.find("New jobs (1)"), std::string::npos);

    auto builds = getJson("/eval/" + std::to_string(e2) + "/builds").json();
    ASSERT_EQ(builds.size(), 4u);
    EXPECT_EQ(builds[0]["id"], a2);

    auto paths = get("/eval/" + std::to_string(e1) + "/store-paths").body;
    EXPECT_NE(paths.find("-hello-1.0\n"), std::string::npos);

    auto r = get("/eval/" + std::to_string(e2) + "/job/d/log");
    EXPECT_EQ(r.status, 302);
    EXPECT_EQ(r.header("Location"), "/build/" + std::to_string(d2) + "/log");
}

TEST_F(ServerPagesTest, JobsetEvalsArePagedTwentyAPage)
{
    auto js = web->jobset("p", "js");
    for (int i = 0; i < 45; ++i) web->eval(js, {web->build(js, {.job = "j"})}, 1700000000 + i);
    startServer();
    auto first = getJson("/jobset/p/js/evals").json();
    EXPECT_EQ(first["evals"].size(), 20u);
    EXPECT_EQ(first["first"], "?page=1");
    EXPECT_EQ(first["last"], "?page=3");
    EXPECT_EQ(first["next"], "?page=2");
    EXPECT_FALSE(first.contains("previous"));
    auto last = getJson("/jobset/p/js/evals?page=3").json();
    EXPECT_EQ(last["evals"].size(), 5u);
    EXPECT_EQ(last["previous"], "?page=2");
    EXPECT_FALSE(last.contains("next"));
    EXPECT_GT(first["evals"][0]["id"].get<int64_t>(), first["evals"][1]["id"].get<int64_t>());
    auto html = get("/jobset/p/js/evals?page=2");
    EXPECT_EQ(html.status, 200);
    EXPECT_NE(html.body.find("page 2 of 3"), std::string::npos);
}

TEST_F(ServerPagesTest, LatestEvalRedirectsToTheNewestFinishedOne)
{
    auto js = web->jobset("p", "js");
    auto done = web->eval(js, {web->build(js)});
    web->eval(js, {web->build(js, {.finished = false})});
    startServer();
    auto r = get("/jobset/p/js/latest-eval");
    EXPECT_EQ(r.status, 302);
    EXPECT_EQ(r.header("Location"), "/eval/" + std::to_string(done));
    EXPECT_EQ(get("/jobset/p/js/latest-eval/builds").header("Location"),
              "/eval/" + std::to_string(done) + "/builds");
}

TEST_F(ServerPagesTest, MissingThingsAre404WithAClearMessage)
{
    web->jobset("p", "js");
    startServer();
    auto r = getJson("/project/nope");
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(r.json()["error"], "project ‘nope’ does not exist");
    EXPECT_EQ(getJson("/jobset/p/nope").json()["error"], "jobset ‘p:nope’ does not exist");
    EXPECT_EQ(getJson("/build/999").json()["error"], "build 999 does not exist");
    EXPECT_EQ(getJson("/eval/999").status, 404);
    auto html = get("/build/999");
    EXPECT_EQ(html.status, 404);
    EXPECT_NE(html.body.find("build 999 does not exist"), std::string::npos);
    EXPECT_EQ(get("/no/such/page").status, 404);
}

TEST_F(ServerPagesTest, MalformedIdsAndPagesAre400)
{
    web->jobset("p", "js");
    startServer();
    for (auto path : {"/build/abc", "/build/-1", "/build/0", "/build/99999999999", "/eval/1x",
                      "/build/1/step/x", "/jobset/p/js/evals?page=0", "/jobset/p/js/evals?page=abc",
                      "/jobset/p/js/evals?page=-2", "/jobset/p/js/evals?page=10001"}) {
        auto r = getJson(path);
        EXPECT_EQ(r.status, 400) << path;
        EXPECT_TRUE(r.json().contains("error")) << path;
    }
}

TEST_F(ServerPagesTest, TraversalInPathParametersIsRefused)
{
    web->jobset("p", "js");
    startServer();
    for (auto path : {"/project/..", "/project/%2e%2e", "/project/%2E%2E", "/project/a%2Fb",
                      "/jobset/p/%2e%2e%2fjs", "/project/%00", "/project/%zz"})
        EXPECT_EQ(get(path).status, 400) << path;
}

TEST_F(ServerPagesTest, UserTextIsEscapedInPages)
{
    web->project("x");
    exec("UPDATE Projects SET description = '<script>alert(1)</script>' WHERE name = 'x'");
    web->jobset("x", "js");
    startServer();
    auto body = get("/project/x").body;
    EXPECT_EQ(body.find("<script>alert"), std::string::npos);
    EXPECT_NE(body.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
}

TEST_F(ServerPagesTest, BaseUriPrefixesLinksAndRedirects)
{
    auto js = web->jobset("p", "js");
    auto e = web->eval(js, {web->build(js)});
    addConfig("base_uri = https://ci.example.org/hydra/");
    startServer();
    // Behind a proxy that strips the prefix, and one that passes it on.
    for (auto prefix : {"", "/hydra"}) {
        auto page = get(std::string(prefix) + "/project/p");
        EXPECT_EQ(page.status, 200) << prefix;
        EXPECT_NE(page.body.find("href=\"/hydra/jobset/p/js\""), std::string::npos) << page.body;
        auto r = get(std::string(prefix) + "/jobset/p/js/latest-eval");
        EXPECT_EQ(r.status, 302);
        EXPECT_EQ(r.header("Location"), "https://ci.example.org/hydra/eval/" + std::to_string(e));
    }
}

TEST_F(ServerPagesTest, PrivateSiteShowsNothingToAnonymousUsers)
{
    web->jobset("p", "js");
    addConfig("private = 1");
    startServer();
    for (auto path : {"/", "/project/p", "/jobset/p/js", "/build/1"}) {
        auto r = getJson(path);
        EXPECT_EQ(r.status, 403) << path;
        EXPECT_EQ(r.body.find("\"p\""), std::string::npos);
    }
}

TEST_F(ServerPagesTest, OversizedRequestsAreRefused)
{
    startServer();
    auto big =
        request("POST", "/", std::string(2 << 20, 'x'), {{"Content-Type", "application/octet-stream"}});
    EXPECT_EQ(big.status, 413);
    auto longHeader = get("/", {{"X-Padding", std::string(64 << 10, 'a')}});
    EXPECT_GE(longHeader.status, 400);
    EXPECT_EQ(get("/").status, 200) << "the server still answers";
}

// A client that opens a connection and sends its request a byte at a time, too slowly, is cut
// off after the I/O limit instead of holding a thread.
TEST_F(ServerPagesTest, SlowClientsAreCutOff)
{
    startServer({"--io-timeout", "2"});
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_GE(fd, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port()));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ASSERT_EQ(::write(fd, "GET / HT", 8), 8);
    auto start = std::chrono::steady_clock::now();
    timeval tv{.tv_sec = 20, .tv_usec = 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char buf[256];
    auto n = ::read(fd, buf, sizeof buf); // the server closes the connection
    auto waited = std::chrono::steady_clock::now() - start;
    ::close(fd);
    EXPECT_LE(n, 0);
    EXPECT_LT(waited, std::chrono::seconds(15)) << "the connection was not cut off";
    EXPECT_EQ(get("/").status, 200);
}

TEST_F(ServerPagesTest, BadArgumentsAndConfigurationAreNamed)
{
    for (const auto& [args, want] : std::vector<std::pair<std::vector<std::string>, std::string>>{
             {{"--port", "abc"}, "--port: ‘abc’ is not a port number"},
             {{"--listen", "nowhere"}, "--listen: ‘nowhere’ is not ADDRESS:PORT"},
             {{"--threads", "0"}, "--threads: ‘0’ is not a number from 1 to 4096"},
             {{"--frobnicate"}, "unknown argument ‘--frobnicate’"}}) {
        std::vector<std::string> argv{serverBinary()};
        argv.insert(argv.end(), args.begin(), args.end());
        auto r = run({.argv = argv, .setEnv = serverEnv(), .pipeStdout = true});
        EXPECT_FALSE(exitedOk(r.status)) << args[0];
        EXPECT_NE(r.err.find(want), std::string::npos) << r.err;
    }
    addConfig("base_uri = example.org/hydra");
    auto r = run({.argv = {serverBinary()}, .setEnv = serverEnv(), .pipeStdout = true});
    EXPECT_FALSE(exitedOk(r.status));
    EXPECT_NE(r.err.find("base_uri"), std::string::npos) << r.err;
}

TEST_F(ServerPagesTest, ATakenPortIsAClearError)
{
    startServer();
    auto r = run({.argv = {serverBinary(), "--listen", "127.0.0.1:" + std::to_string(port())},
                  .setEnv = serverEnv(),
                  .pipeStdout = true},
                 {}, std::chrono::seconds(60));
    EXPECT_FALSE(exitedOk(r.status));
    EXPECT_NE(r.err.find("cannot listen on 127.0.0.1:" + std::to_string(port())), std::string::npos) << r.err;
}

TEST_F(ServerPagesTest, StopsOnSigterm)
{
    startServer();
    EXPECT_EQ(get("/").status, 200);
    EXPECT_EQ(stopServer(), 0);
    EXPECT_NE(serverLog().find("hydra-server stopped"), std::string::npos);
}

} // namespace
} // namespace hydra::test

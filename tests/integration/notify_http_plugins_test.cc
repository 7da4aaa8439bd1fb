// The HTTP notification plugins against a real PostgreSQL and a real HTTP receiver on
// loopback: the exact requests GitHubStatus, GiteaStatus, SlackNotification and
// InfluxDBNotification send, what they leave alone, and that a failed delivery throws.

#include "db/connection_pool.hh"
#include "db/schema.hh"
#include "harness/http_receiver.hh"
#include "harness/hydra_rows.hh"
#include "harness/pg_fixture.hh"
#include "notify/gitea_status.hh"
#include "notify/github_status.hh"
#include "notify/influxdb.hh"
#include "notify/slack.hh"
#include "util/config_file.hh"
#include "util/error.hh"

#include <algorithm>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <unistd.h>

using namespace hydra;
using namespace hydra::notify;
using hydra::test::HttpReceiver;

namespace {

const std::string githubRev = "1111111111111111111111111111111111111111";

class HttpPluginsTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        conninfo = test::PgCluster::get().conninfo(test::PgCluster::get().freshDatabase());
        conn = std::make_unique<pqxx::connection>(conninfo);
        db::initSchema(*conn);
        jobsetId = test::HydraRows(*conn).jobset();
        pool = std::make_unique<db::ConnectionPool>(db::PoolOptions{conninfo, 4, std::chrono::seconds(30)});
        config = HydraConfig::fromTree(parseConfigText(configText(), "hydra.conf"), "hydra.conf");
    }

    std::string configText() const
    {
        return "base_uri = https://hydra.test/\n"
               "github_endpoint = " +
               receiver.url() +
               "\n"
               "<githubstatus>\n  jobs = p:js:hello\n  inputs = src\n</githubstatus>\n"
               "<github_authorization>\n  owner = token gh-secret\n</github_authorization>\n"
               "<gitea_authorization>\n  owner = gitea-secret\n</gitea_authorization>\n"
               "<slack>\n  jobs = p:js:hel.*\n  url = " +
               receiver.url() +
               "/slack/hook\n</slack>\n"
               "<influxdb>\n  url = " +
               receiver.url() + "\n  db = hydra\n</influxdb>\n";
    }

    long long queued(const std::string& job)
    {
        return test::HydraRows(*conn).queueBuild(jobsetId, job,
                                                 "/nix/store/" + std::string(32, 'a') + "-" + job + ".drv",
                                                 "/nix/store/" + std::string(32, 'b') + "-" + job);
    }

    // A finished build queued at 1000, started at 1010 and stopped at 1070.
    long long finished(const std::string& job, int status)
    {
        auto id = queued(job);
        pqxx::work t(*conn);
        t.exec_params("UPDATE Builds SET finished = 1, buildStatus = $2, timestamp = 1000, startTime = 1010, "
                      "stopTime = 1070, size = 300, closureSize = 4000, isCachedBuild = 0 WHERE id = $1",
                      id, status);
        t.commit();
        return id;
    }

    // An evaluation of the jobset containing `builds`, with a GitHub git input and Gitea's inputs.
    long long evaluation(const std::vector<long long>& builds, const std::string& rev = githubRev)
    {
        pqxx::work t(*conn);
        auto e = t.exec_params1(
                      "INSERT INTO JobsetEvals (jobset_id, timestamp, checkoutTime, evalTime, hasNewBuilds, "
                      "hash) VALUES ($1, 1000, 0, 0, 1, 'h') RETURNING id",
                      jobsetId)[0]
                     .as<long long>();
        auto input = [&](const std::string& name, const std::string& type, std::optional<std::string> uri,
                         std::optional<std::string> revision, std::optional<std::string> value) {
            t.exec_params("INSERT INTO JobsetEvalInputs (eval, name, altNr, type, uri, revision, value) "
                          "VALUES ($1, $2, 0, $3, $4, $5, $6)",
                          e, name, type, uri, revision, value);
        };
        input("src", "git", "https://github.com/owner/repo.git", rev, std::nullopt);
        input("gitea_status_repo", "string", std::nullopt, std::nullopt, "src");
        input("gitea_repo_owner", "string", std::nullopt, std::nullopt, "owner");
        input("gitea_repo_name", "string", std::nullopt, std::nullopt, "repo");
        input("gitea_http_url", "string", std::nullopt, std::nullopt, receiver.url());
        for (auto b : builds)
            t.exec_params("INSERT INTO JobsetEvalMembers (eval, build, isNew) VALUES ($1, $2, 1)", e, b);
        t.commit();
        return e;
    }

    void handle(Plugin& plugin, const std::string& channel, const std::string& payload)
    {
        PluginContext ctx{*pool, config, "/nonexistent"};
        plugin.handle(Event::parse(channel, payload), ctx);
    }

    HttpReceiver receiver;
    std::string conninfo;
    std::unique_ptr<pqxx::connection> conn;
    std::unique_ptr<db::ConnectionPool> pool;
    HydraConfig config;
    int jobsetId = 0;
};

std::string hostName()
{
    char buf[256] = {};
    gethostname(buf, sizeof(buf) - 1);
    return buf;
}

} // namespace

TEST_F(HttpPluginsTest, GithubStatusPendingThenFinished)
{
    auto id = queued("hello");
    evaluation({id});
    auto plugin = makeGithubStatus(config);
    ASSERT_NE(plugin, nullptr);
    EXPECT_EQ(plugin->name(), "GitHubStatus");
    handle(*plugin, "build_queued", std::to_string(id));
    {
        pqxx::work t(*conn);
        t.exec_params("UPDATE Builds SET finished = 1, buildStatus = 0, startTime = 1010, stopTime = 1070 "
                      "WHERE id = $1",
                      id);
        t.commit();
    }
    handle(*plugin, "build_finished", std::to_string(id));

    auto reqs = receiver.requests();
    ASSERT_EQ(reqs.size(), 2u);
    for (auto& r : reqs) {
        EXPECT_EQ(r.method, "POST");
        EXPECT_EQ(r.target, "/repos/owner/repo/statuses/" + githubRev);
        EXPECT_EQ(r.header("Authorization"), "token gh-secret");
        EXPECT_EQ(r.header("Accept"), "application/vnd.github.v3+json");
        EXPECT_EQ(r.header("Content-Type"), "application/json");
    }
    auto expected = [&](const std::string& state) {
        return nlohmann::json{{"state", state},
                              {"target_url", "https://hydra.test/build/" + std::to_string(id)},
                              {"description", "Hydra build #" + std::to_string(id) + " of p:js:hello"},
                              {"context", "continuous-integration/hydra:p:js:hello:" + std::to_string(id)}};
    };
    EXPECT_EQ(nlohmann::json::parse(reqs[0].body), expected("pending"));
    EXPECT_EQ(nlohmann::json::parse(reqs[1].body), expected("success"));
}

TEST_F(HttpPluginsTest, GithubStatusCachedBuildReportsOnlyThatEvaluation)
{
    auto id = finished("hello", 1);
    evaluation({id}, std::string(40, '2'));
    auto second = evaluation({id}, std::string(40, '3'));
    auto plugin = makeGithubStatus(config);
    handle(*plugin, "cached_build_finished", std::to_string(second) + "\t" + std::to_string(id));
    auto reqs = receiver.requests();
    ASSERT_EQ(reqs.size(), 1u);
    EXPECT_EQ(reqs[0].target, "/repos/owner/repo/statuses/" + std::string(40, '3'));
    EXPECT_EQ(nlohmann::json::parse(reqs[0].body)["state"], "failure");
}

TEST_F(HttpPluginsTest, GithubStatusIgnoresOtherJobsAndVanishedBuilds)
{
    auto other = finished("hello-world", 0);
    evaluation({other});
    auto plugin = makeGithubStatus(config);
    handle(*plugin, "build_finished", std::to_string(other));
    handle(*plugin, "build_finished", "999999");
    EXPECT_TRUE(receiver.requests().empty());
}

TEST_F(HttpPluginsTest, GiteaStatusFinished)
{
    auto id = finished("hello", 0);
    evaluation({id});
    auto plugin = makeGiteaStatus(config);
    ASSERT_NE(plugin, nullptr);
    EXPECT_TRUE(plugin->wants("build_started"));
    EXPECT_FALSE(plugin->wants("step_finished"));
    handle(*plugin, "build_finished", std::to_string(id));
    auto reqs = receiver.requests();
    ASSERT_EQ(reqs.size(), 1u);
    EXPECT_EQ(reqs[0].target, "/api/v1/repos/owner/repo/statuses/" + githubRev);
    EXPECT_EQ(reqs[0].header("Authorization"), "token gitea-secret");
    EXPECT_EQ(nlohmann::json::parse(reqs[0].body),
              (nlohmann::json{{"state", "success"},
                              {"target_url", "https://hydra.test/build/" + std::to_string(id)},
                              {"description", "Hydra build #" + std::to_string(id) + " of p:js:hello"},
                              {"context", "Hydra hello"}}));
}

TEST_F(HttpPluginsTest, SlackOnlyWhenTheStatusChanges)
{
    auto first = finished("hello", 0);
    auto second = finished("hello", 0);
    auto third = finished("hello", 1);
    auto other = finished("bye", 1);
    auto plugin = makeSlackNotification(config);
    ASSERT_NE(plugin, nullptr);
    handle(*plugin, "build_finished", std::to_string(first));
    handle(*plugin, "build_finished", std::to_string(second)); // same status as before: quiet
    handle(*plugin, "build_finished", std::to_string(other));  // job not matched
    handle(*plugin, "build_finished", std::to_string(third));
    auto reqs = receiver.requests();
    ASSERT_EQ(reqs.size(), 2u);
    EXPECT_EQ(reqs[0].target, "/slack/hook");
    EXPECT_EQ(reqs[0].header("Content-Type"), "application/json");
    auto a = nlohmann::json::parse(reqs[1].body)["attachments"][0];
    auto n = std::to_string(third);
    EXPECT_EQ(a["color"], "danger");
    EXPECT_EQ(a["title"], "Job p:js:hello build number " + n);
    EXPECT_EQ(a["text"], "Job <https://hydra.test/job/p/js/hello|p:js:hello>: <https://hydra.test/build/" +
                             n + "|Failed>");
    EXPECT_EQ(nlohmann::json::parse(reqs[0].body)["attachments"][0]["color"], "good");
}

TEST_F(HttpPluginsTest, InfluxDBLinesForABuildAndItsDependent)
{
    auto top = finished("hello", 1);
    auto dep = finished("hello2", 2);
    auto plugin = makeInfluxDBNotification(config);
    ASSERT_NE(plugin, nullptr);
    handle(*plugin, "build_finished", std::to_string(top) + "\t" + std::to_string(dep));
    auto reqs = receiver.requests();
    ASSERT_EQ(reqs.size(), 1u);
    EXPECT_EQ(reqs[0].target, "/write?db=hydra&precision=s");
    EXPECT_EQ(reqs[0].header("Content-Type"), "application/x-www-form-urlencoded");
    auto line = [&](const std::string& job, long long id, int status, const std::string& result) {
        return fmt::format("hydra_build_status,cached=false,job={},jobset=js,project=p,repo=js,result={},"
                           "status=failed,system=x86_64-linux,host={} build_id=\"{}\",build_status={}i,"
                           "closure_size=4000i,duration=60i,main_build_id=\"{}\",queued=10i,size=300i 1070",
                           job, result, influxEscapeTag(hostName()), id, status, top);
    };
    EXPECT_EQ(reqs[0].body,
              line("hello", top, 1, "failure") + "\n" + line("hello2", dep, 2, "dependency-failed"));
}

// A build_finished too long for one notification comes in parts, each naming the build first;
// the daemon marks all but the first as for a build already handled. Those parts post for the
// dependents only, not the build's line or message again.
TEST_F(HttpPluginsTest, ALaterPartOfBuildFinishedPostsOnlyForTheDependents)
{
    auto top = finished("hello", 1);
    auto dep = finished("hello2", 2);
    auto event = Event::parse("build_finished", std::to_string(top) + "\t" + std::to_string(dep));
    event.buildHandled = true;
    PluginContext ctx{*pool, config, "/nonexistent"};
    makeInfluxDBNotification(config)->handle(event, ctx);
    makeSlackNotification(config)->handle(event, ctx);
    auto reqs = receiver.requests();
    ASSERT_EQ(reqs.size(), 2u);
    EXPECT_EQ(reqs[0].target, "/write?db=hydra&precision=s");
    EXPECT_NE(reqs[0].body.find(fmt::format(" build_id=\"{}\"", dep)), std::string::npos) << reqs[0].body;
    EXPECT_EQ(reqs[0].body.find(fmt::format(" build_id=\"{}\"", top)), std::string::npos) << reqs[0].body;
    EXPECT_EQ(std::count(reqs[0].body.begin(), reqs[0].body.end(), '\n'), 0) << "one line";
    EXPECT_EQ(reqs[1].target, "/slack/hook");
    auto title = nlohmann::json::parse(reqs[1].body)["attachments"][0]["title"];
    EXPECT_EQ(title, "Job p:js:hello2 build number " + std::to_string(dep));
}

TEST_F(HttpPluginsTest, ServerErrorThrowsNamingTheUrl)
{
    auto id = finished("hello", 1);
    evaluation({id});
    receiver.replyWith(500);
    auto check = [&](Plugin& plugin, const std::string& url) {
        try {
            handle(plugin, "build_finished", std::to_string(id));
            ADD_FAILURE() << plugin.name() << " did not throw";
        } catch (const Error& e) {
            std::string msg = e.what();
            EXPECT_NE(msg.find("POST " + url + ": HTTP 500"), std::string::npos) << msg;
        }
    };
    check(*makeGithubStatus(config), receiver.url() + "/repos/owner/repo/statuses/" + githubRev);
    check(*makeGiteaStatus(config), receiver.url() + "/api/v1/repos/owner/repo/statuses/" + githubRev);
    check(*makeSlackNotification(config), receiver.url() + "/slack/hook");
    check(*makeInfluxDBNotification(config), receiver.url() + "/write?db=hydra&precision=s");
    EXPECT_EQ(receiver.requests().size(), 4u);
}

TEST_F(HttpPluginsTest, UnconfiguredPluginsAreNotMade)
{
    auto empty = HydraConfig::fromTree(parseConfigText("", "hydra.conf"), "hydra.conf");
    EXPECT_EQ(makeGithubStatus(empty), nullptr);
    EXPECT_EQ(makeGiteaStatus(empty), nullptr);
    EXPECT_EQ(makeSlackNotification(empty), nullptr);
    EXPECT_EQ(makeInfluxDBNotification(empty), nullptr);
}

// The shell verbs that steer builds: hydra build show|restart|cancel|bump, hydra eval trigger and
// hydra queue, run as an operator runs them (real binary, real PostgreSQL), with their effect in
// the database and the notifications the daemons listen to.

#include "db/connect.hh"
#include "harness/channel_recorder.hh"
#include "harness/pg_fixture.hh"
#include "harness/web_rows.hh"
#include "util/process.hh"

#include <chrono>
#include <ctime>
#include <filesystem>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace hydra;

namespace {

const std::string binDir = std::string(HYDRA_BINARY_DIR) + "/bin";

int exitCode(const RunResult& r)
{
    return WIFEXITED(r.status) ? WEXITSTATUS(r.status) : -1;
}

bool hasNote(const test::Notes& notes, const std::string& channel)
{
    return std::any_of(notes.begin(), notes.end(), [&](const auto& n) { return n.first == channel; });
}

class CliBuildTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        dbName = test::PgCluster::get().freshDatabase();
        conninfo = test::PgCluster::get().conninfo(dbName);
        stateDir = std::filesystem::temp_directory_path() / ("hydra-cli-build-" + dbName);
        std::filesystem::create_directories(stateDir);
        ASSERT_EQ(exitCode(hydra({"init"})), 0);
        conn = db::connect(conninfo);
        web = std::make_unique<test::WebRows>(*conn);
    }
    void TearDown() override { std::filesystem::remove_all(stateDir); }

    RunResult hydra(std::vector<std::string> args)
    {
        args.insert(args.begin(), binDir + "/hydra");
        ProcessOptions o{.argv = args,
                         .setEnv = {{"HYDRA_DBI", conninfo}, {"HYDRA_DATA", stateDir.string()}},
                         .unsetEnv = {"HYDRA_CONFIG", "HYDRA_DATABASE_URL"}};
        return hydra::run(o, "", std::chrono::minutes(2));
    }

    std::string sql(const std::string& query)
    {
        pqxx::work t(*conn);
        auto r = t.exec(query);
        t.commit();
        return r.empty() || r[0][0].is_null() ? std::string() : r[0][0].as<std::string>();
    }

    int64_t build(int jobset, bool finished, int status = 0)
    {
        test::BuildSpec s;
        s.finished = finished;
        s.buildStatus = status;
        return web->build(jobset, s);
    }

    std::string dbName, conninfo;
    std::filesystem::path stateDir;
    std::unique_ptr<pqxx::connection> conn;
    std::unique_ptr<test::WebRows> web;
};

TEST_F(CliBuildTest, ShowPrintsABuildAsTextAndAsHydrasJson)
{
    int js = web->jobset("p", "js");
    auto id = build(js, true, 1);
    auto text = hydra({"build", "show", std::to_string(id)});
    ASSERT_EQ(exitCode(text), 0) << text.err;
    EXPECT_NE(text.out.find("build " + std::to_string(id)), std::string::npos) << text.out;
    EXPECT_NE(text.out.find("job: p:js:hello"), std::string::npos) << text.out;
    EXPECT_NE(text.out.find("status: failed"), std::string::npos) << text.out;

    auto json = hydra({"build", "show", "--json", std::to_string(id)});
    ASSERT_EQ(exitCode(json), 0) << json.err;
    auto list = nlohmann::json::parse(json.out);
    ASSERT_EQ(list.size(), 1u);
    EXPECT_EQ(list[0]["id"], id);
    EXPECT_EQ(list[0]["finished"], 1);
    EXPECT_EQ(list[0]["buildstatus"], 1);
    EXPECT_EQ(list[0]["project"], "p");
    EXPECT_EQ(list[0]["jobset"], "js");
    EXPECT_TRUE(list[0]["buildoutputs"].contains("out"));
}

TEST_F(CliBuildTest, BadOrUnknownIdsAreNamedAndNothingChanges)
{
    int js = web->jobset("p", "js");
    auto id = build(js, true, 1);
    auto bad = hydra({"build", "restart", std::to_string(id), "12x"});
    EXPECT_EQ(exitCode(bad), 2);
    EXPECT_NE(bad.err.find("‘12x’ is not a build id"), std::string::npos) << bad.err;
    auto unknown = hydra({"build", "restart", std::to_string(id), "999999"});
    EXPECT_EQ(exitCode(unknown), 1);
    EXPECT_NE(unknown.err.find("build 999999 does not exist"), std::string::npos) << unknown.err;
    EXPECT_EQ(sql("SELECT finished FROM Builds WHERE id = " + std::to_string(id)), "1");
    auto verb = hydra({"build", "rebuild", "1"});
    EXPECT_EQ(exitCode(verb), 2);
    EXPECT_NE(verb.err.find("unknown action ‘rebuild’"), std::string::npos) << verb.err;
    EXPECT_EQ(exitCode(hydra({"build", "show"})), 2);
}

TEST_F(CliBuildTest, RestartRequeuesFinishedBuildsAndForgetsTheirFailedPaths)
{
    int js = web->jobset("p", "js");
    auto failed = build(js, true, 1);
    auto queued = build(js, false);
    auto eval = web->eval(js, {failed, queued});
    auto f = std::to_string(failed);
    auto out = sql("SELECT path FROM BuildOutputs WHERE build = " + f);
    web->step(failed, 1, "/nix/store/00000000000000000000000000000000-dep.drv", 1);
    sql("INSERT INTO BuildStepOutputs (build, stepnr, name, path) VALUES (" + f +
        ", 1, 'out', '/nix/store/00000000000000000000000000000000-dep')");
    sql("INSERT INTO FailedPaths (path) VALUES ('" + out +
        "'), ('/nix/store/00000000000000000000000000000000-dep'), ('/nix/store/unrelated')");
    sql("UPDATE JobsetEvals SET nrSucceeded = 0 WHERE id = " + std::to_string(eval));
    test::ChannelRecorder recorder(conninfo, {"builds_restarted"});

    auto r = hydra({"build", "restart", "--json", f, std::to_string(queued)});
    EXPECT_EQ(exitCode(r), 1) << "the queued build was not restarted: " << r.err;
    auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["restarted"], nlohmann::json::array({failed}));
    EXPECT_EQ(j["skipped"], nlohmann::json::array({queued}));
    EXPECT_NE(r.err.find("build " + std::to_string(queued) + " left as it was"), std::string::npos) << r.err;

    EXPECT_EQ(sql("SELECT finished || ':' || coalesce(buildStatus::text, 'null') || ':' || "
                  "coalesce(startTime::text, "
                  "'null') || ':' || coalesce(stopTime::text, 'null') FROM Builds WHERE id = " +
                  f),
              "0:null:null:null");
    EXPECT_EQ(sql("SELECT string_agg(path, ',' ORDER BY path) FROM FailedPaths"), "/nix/store/unrelated");
    EXPECT_EQ(
        sql("SELECT coalesce(nrSucceeded::text, 'null') FROM JobsetEvals WHERE id = " + std::to_string(eval)),
        "null");
    EXPECT_TRUE(hasNote(recorder.drain(), "builds_restarted"));
}

TEST_F(CliBuildTest, CancelFinishesQueuedBuildsAsCancelledAndBumpPutsThemFirst)
{
    int js = web->jobset("p", "js");
    auto a = build(js, false);
    auto b = build(js, false);
    test::ChannelRecorder recorder(conninfo, {"builds_bumped", "builds_cancelled"});
    auto before = std::time(nullptr);

    auto bump = hydra({"build", "bump", std::to_string(b)});
    ASSERT_EQ(exitCode(bump), 0) << bump.err;
    EXPECT_EQ(bump.out, "build " + std::to_string(b) + " bumped\n");
    EXPECT_GE(std::stoll(sql("SELECT globalPriority FROM Builds WHERE id = " + std::to_string(b))), before);
    auto queue = nlohmann::json::parse(hydra({"queue", "--json"}).out);
    ASSERT_EQ(queue.size(), 2u);
    EXPECT_EQ(queue[0]["id"], b);
    EXPECT_EQ(queue[1]["id"], a);

    auto cancel = hydra({"build", "cancel", std::to_string(a)});
    ASSERT_EQ(exitCode(cancel), 0) << cancel.err;
    EXPECT_EQ(sql("SELECT finished || ':' || buildStatus FROM Builds WHERE id = " + std::to_string(a)),
              "1:4");
    auto notes = recorder.drain();
    EXPECT_TRUE(hasNote(notes, "builds_bumped"));
    EXPECT_TRUE(hasNote(notes, "builds_cancelled"));

    auto again = hydra({"build", "cancel", std::to_string(a)});
    EXPECT_EQ(exitCode(again), 1);
    EXPECT_NE(again.err.find("it is not queued"), std::string::npos) << again.err;
    auto finishedBump = hydra({"build", "bump", std::to_string(a)});
    EXPECT_EQ(exitCode(finishedBump), 1);
}

TEST_F(CliBuildTest, QueueListsTheQueueInOrderWithItsSize)
{
    int js = web->jobset("p", "js");
    build(js, true);
    auto a = build(js, false);
    auto b = build(js, false);
    auto r = hydra({"queue", "--limit", "1"});
    ASSERT_EQ(exitCode(r), 0) << r.err;
    EXPECT_NE(r.out.find(std::to_string(a) + "\tp:js:hello"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find(std::to_string(b) + "\tp:js:hello"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("1 of 2 queued builds shown"), std::string::npos) << r.out;
    auto bad = hydra({"queue", "--limit", "0"});
    EXPECT_EQ(exitCode(bad), 2);
    EXPECT_NE(bad.err.find("--limit: ‘0’"), std::string::npos) << bad.err;
}

TEST_F(CliBuildTest, EvalTriggerAsksTheEvaluatorAndForceForcesANewEvaluation)
{
    web->jobset("p", "js");
    test::ChannelRecorder recorder(conninfo, {"jobset_scheduling_changed"});
    auto before = std::time(nullptr);
    auto r = hydra({"eval", "trigger", "p", "js", "--json"});
    ASSERT_EQ(exitCode(r), 0) << r.err;
    EXPECT_EQ(nlohmann::json::parse(r.out)["jobsetsTriggered"], nlohmann::json::array({"p:js"}));
    EXPECT_GE(std::stoll(sql("SELECT triggerTime FROM Jobsets WHERE name = 'js'")), before);
    EXPECT_EQ(sql("SELECT coalesce(forceEval, false) FROM Jobsets WHERE name = 'js'"), "f");
    EXPECT_TRUE(hasNote(recorder.drain(), "jobset_scheduling_changed"));

    ASSERT_EQ(exitCode(hydra({"eval", "trigger", "p", "js", "--force"})), 0);
    EXPECT_EQ(sql("SELECT forceEval FROM Jobsets WHERE name = 'js'"), "t");

    sql("UPDATE Jobsets SET enabled = 0, triggerTime = NULL, forceEval = false WHERE name = 'js'");
    auto disabled = hydra({"eval", "trigger", "p", "js"});
    EXPECT_EQ(exitCode(disabled), 1);
    EXPECT_NE(disabled.err.find("jobset p:js is disabled"), std::string::npos) << disabled.err;
    EXPECT_EQ(sql("SELECT triggerTime FROM Jobsets WHERE name = 'js'"), "");
    auto forced = hydra({"eval", "trigger", "p", "js", "--force"});
    EXPECT_EQ(exitCode(forced), 0) << "forced, as Hydra's /api/push forces a disabled jobset";
    EXPECT_NE(forced.out.find("it is disabled"), std::string::npos) << forced.out;
    EXPECT_NE(sql("SELECT triggerTime FROM Jobsets WHERE name = 'js'"), "");

    auto unknown = hydra({"eval", "trigger", "p", "nope"});
    EXPECT_EQ(exitCode(unknown), 1);
    EXPECT_NE(unknown.err.find("jobset p:nope does not exist"), std::string::npos) << unknown.err;
    // Two words after `eval` still name a project and a jobset, even a project named "trigger".
    auto plain = hydra({"eval", "trigger", "js"});
    EXPECT_EQ(exitCode(plain), 1);
    EXPECT_NE(plain.err.find("jobset trigger:js does not exist"), std::string::npos) << plain.err;
}

TEST_F(CliBuildTest, BeforeInitEachVerbSaysToRunInit)
{
    conninfo = test::PgCluster::get().conninfo(test::PgCluster::get().freshDatabase());
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"queue"}, {"build", "show", "1"}, {"build", "cancel", "1"}, {"eval", "trigger", "p", "js"}}) {
        auto r = hydra(args);
        EXPECT_EQ(exitCode(r), 1) << args[0];
        EXPECT_NE(r.err.find("the database has no hydra schema; run `hydra init` first"), std::string::npos)
            << r.err;
    }
}

} // namespace

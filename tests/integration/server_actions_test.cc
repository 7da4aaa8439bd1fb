// hydra-server's actions on builds, evaluations, jobsets and the queue over real HTTP against a
// real database: each allowed with the role Hydra asks for (or project rights), with its effect
// in the database and the notification the daemons hear; each refused with 401/403 and nothing
// changed when anonymous, too weak, from a foreign page, without the anti-forgery token, or with
// a revoked token; and a GET on an action's path changes nothing.

#include "db/web_auth.hh"
#include "harness/channel_recorder.hh"
#include "harness/server_fixture.hh"
#include "harness/web_rows.hh"
#include "harness/web_session.hh"
#include "util/secrets.hh"

#include <ctime>
#include <gtest/gtest.h>

namespace hydra::test {
namespace {

using Headers = std::multimap<std::string, std::string>;

bool hasNote(const Notes& notes, const std::string& channel)
{
    return std::any_of(notes.begin(), notes.end(), [&](const auto& n) { return n.first == channel; });
}

class ServerActionsTest : public ServerFixture {
protected:
    void SetUp() override
    {
        ServerFixture::SetUp();
        web = std::make_unique<WebRows>(conn());
        js = web->jobset("p", "js");
        for (const auto& [name, roles] :
             std::vector<std::pair<std::string, std::vector<std::string>>>{{"restarter", {"restart-jobs"}},
                                                                           {"canceller", {"cancel-build"}},
                                                                           {"bumper", {"bump-to-front"}},
                                                                           {"evaluator", {"eval-jobset"}},
                                                                           {"nobody", {}},
                                                                           {"member", {}},
                                                                           {"boss", {"admin"}}})
            createUser(conn(), name, "pw-" + name, roles);
        exec("INSERT INTO ProjectMembers (project, userName) VALUES ('p', 'member')");
        startServer();
    }

    int64_t build(bool finished, int status = 0, int jobset = 0)
    {
        BuildSpec s;
        s.finished = finished;
        s.buildStatus = status;
        return web->build(jobset ? jobset : js, s);
    }

    WebSession session(const std::string& user) { return logIn(port(), user, "pw-" + user); }

    /// A form posted by `s`'s browser from this site's page `from`.
    HttpReply postForm(const WebSession& s, const std::string& path, const std::string& from = "/")
    {
        auto h = s.formHeaders();
        h.emplace("Referer", "http://127.0.0.1:" + std::to_string(port()) + from);
        return request("POST", path, s.form(), h);
    }

    /// A bearer token of `user`, as `hydra token create` gives one.
    std::string token(const std::string& user, const std::string& name = "script")
    {
        auto secret = randomToken();
        pqxx::work t(conn());
        db::createApiToken(t, user, name, sha256Hex(secret), std::time(nullptr));
        t.commit();
        return secret;
    }

    HttpReply postWithToken(const std::string& secret, const std::string& path)
    {
        return request("POST", path, "",
                       {{"Authorization", "Bearer " + secret}, {"Accept", "application/json"}});
    }

    std::string buildState(int64_t id)
    {
        return exec(
            "SELECT finished || ':' || coalesce(buildStatus::text, '-') || ':' || globalPriority || ':' || "
            "keep FROM Builds WHERE id = " +
            std::to_string(id));
    }

    std::unique_ptr<WebRows> web;
    int js = 0;
};

TEST_F(ServerActionsTest, RestartNeedsTheRestartRoleAndRequeuesTheBuild)
{
    auto id = build(true, 1);
    auto path = "/build/" + std::to_string(id) + "/restart";
    auto before = buildState(id);

    EXPECT_EQ(request("POST", path).status, 403) << "anonymous";
    EXPECT_EQ(postForm(session("nobody"), path).status, 403);
    EXPECT_EQ(postForm(session("canceller"), path).status, 403);
    EXPECT_EQ(buildState(id), before);

    ChannelRecorder recorder(conninfo(), {"builds_restarted"});
    auto page = "/build/" + std::to_string(id);
    auto r = postForm(session("restarter"), path, page);
    ASSERT_EQ(r.status, 302) << r.body;
    EXPECT_EQ(r.header("Location"), "http://127.0.0.1:" + std::to_string(port()) + page);
    EXPECT_EQ(buildState(id), "0:-:0:0");
    EXPECT_TRUE(hasNote(recorder.drain(), "builds_restarted"));

    auto again = postForm(session("restarter"), path);
    EXPECT_EQ(again.status, 409) << "a queued build cannot be restarted";
}

TEST_F(ServerActionsTest, CancelAndBumpNeedTheirRolesAndReachTheQueueRunner)
{
    auto a = build(false);
    auto b = build(false);
    auto before = std::time(nullptr);
    EXPECT_EQ(postForm(session("restarter"), "/build/" + std::to_string(a) + "/cancel").status, 403);
    EXPECT_EQ(postForm(session("canceller"), "/build/" + std::to_string(b) + "/bump").status, 403);
    EXPECT_EQ(buildState(a), "0:-:0:0");
    EXPECT_EQ(buildState(b), "0:-:0:0");

    ChannelRecorder recorder(conninfo(), {"builds_cancelled", "builds_bumped"});
    EXPECT_EQ(postForm(session("canceller"), "/build/" + std::to_string(a) + "/cancel").status, 302);
    EXPECT_EQ(exec("SELECT finished || ':' || buildStatus FROM Builds WHERE id = " + std::to_string(a)),
              "1:4");
    auto bump = postWithToken(token("bumper"), "/build/" + std::to_string(b) + "/bump");
    ASSERT_EQ(bump.status, 200) << bump.body;
    EXPECT_EQ(bump.json()["bumped"], nlohmann::json::array({b}));
    EXPECT_GE(std::stoll(exec("SELECT globalPriority FROM Builds WHERE id = " + std::to_string(b))), before);
    auto notes = recorder.drain();
    EXPECT_TRUE(hasNote(notes, "builds_cancelled"));
    EXPECT_TRUE(hasNote(notes, "builds_bumped"));
}

TEST_F(ServerActionsTest, KeepNeedsProjectRightsWhichMembersAndAdminsHave)
{
    auto id = build(true);
    auto keep = "/build/" + std::to_string(id) + "/keep/1";
    EXPECT_EQ(postForm(session("restarter"), keep).status, 403);
    EXPECT_EQ(exec("SELECT keep FROM Builds WHERE id = " + std::to_string(id)), "0");
    EXPECT_EQ(postForm(session("member"), keep).status, 302);
    EXPECT_EQ(exec("SELECT keep FROM Builds WHERE id = " + std::to_string(id)), "1");
    EXPECT_EQ(postForm(session("boss"), "/build/" + std::to_string(id) + "/keep/0").status, 302);
    EXPECT_EQ(exec("SELECT keep FROM Builds WHERE id = " + std::to_string(id)), "0");
    EXPECT_EQ(postForm(session("boss"), "/build/" + std::to_string(id) + "/keep/2").status, 400);
    // A project member may restart without the role; so may an admin cancel.
    EXPECT_EQ(postForm(session("member"), "/build/" + std::to_string(id) + "/restart").status, 302);
    EXPECT_EQ(postForm(session("boss"), "/build/" + std::to_string(id) + "/cancel").status, 302);
    EXPECT_EQ(exec("SELECT finished || ':' || buildStatus FROM Builds WHERE id = " + std::to_string(id)),
              "1:4");
    EXPECT_EQ(postForm(session("boss"), "/build/999999/restart").status, 404);
}

TEST_F(ServerActionsTest, ForgedOrRevokedRequestsAreRefusedAndChangeNothing)
{
    auto id = build(true, 1);
    auto path = "/build/" + std::to_string(id) + "/restart";
    auto s = session("restarter");
    auto before = buildState(id);

    auto foreign = s.formHeaders();
    foreign.erase("Origin");
    foreign.emplace("Origin", "https://evil.example.org");
    EXPECT_EQ(request("POST", path, s.form(), foreign).status, 403) << "a foreign Origin";
    auto noToken = s.formHeaders();
    EXPECT_EQ(request("POST", path, "", noToken).status, 403) << "a form without the anti-forgery token";
    EXPECT_EQ(request("POST", path, "csrf=0123", noToken).status, 403) << "a wrong anti-forgery token";

    auto secret = token("restarter", "old");
    {
        pqxx::work t(conn());
        ASSERT_TRUE(db::revokeApiToken(t, "restarter", "old"));
        t.commit();
    }
    EXPECT_EQ(postWithToken(secret, path).status, 401) << "a revoked token";
    EXPECT_EQ(postWithToken("not-a-token", path).status, 401);
    EXPECT_EQ(buildState(id), before);

    auto ok = postWithToken(token("restarter"), path);
    ASSERT_EQ(ok.status, 200) << ok.body;
    EXPECT_EQ(ok.json()["restarted"], nlohmann::json::array({id}));
}

TEST_F(ServerActionsTest, AGetOnAnActionPathChangesNothing)
{
    auto done = build(true, 1);
    auto queued = build(false);
    auto eval = web->eval(js, {done, queued});
    exec("INSERT INTO FailedPaths (path) VALUES ('/nix/store/x')");
    auto s = session("boss");
    auto json = s.headers();
    json.emplace("Accept", "application/json");
    for (const auto& path :
         {"/build/" + std::to_string(done) + "/restart", "/build/" + std::to_string(queued) + "/cancel",
          "/build/" + std::to_string(queued) + "/bump", "/build/" + std::to_string(done) + "/keep/1",
          "/eval/" + std::to_string(eval) + "/cancel", "/eval/" + std::to_string(eval) + "/restart-failed",
          std::string("/jobset/p/js/trigger"), std::string("/admin/clear-failed-cache"),
          std::string("/admin/clear-queue-non-current")}) {
        // An old link from Hydra's pages shows the button that posts the action...
        auto page = get(path, s.headers());
        EXPECT_EQ(page.status, 200) << path;
        EXPECT_NE(page.body.find("method=\"post\" action=\"" + path + "\""), std::string::npos) << page.body;
        // ...and a script learns that it must POST.
        EXPECT_EQ(get(path, json).status, 405) << path;
    }
    EXPECT_EQ(get("/api/push?jobsets=p:js&force=1", s.headers()).status, 405);
    EXPECT_EQ(get("/api/push-github").status, 405);
    EXPECT_EQ(buildState(done), "1:1:0:0");
    EXPECT_EQ(buildState(queued), "0:-:0:0");
    EXPECT_EQ(exec("SELECT triggerTime FROM Jobsets WHERE id = " + std::to_string(js)), "");
    EXPECT_EQ(exec("SELECT count(*) FROM FailedPaths"), "1");
}

TEST_F(ServerActionsTest, EvaluationActionsTakeTheirBuilds)
{
    auto ok = build(true, 0), failed = build(true, 1), aborted = build(true, 3), cancelled = build(true, 4);
    auto q1 = build(false), q2 = build(false), elsewhere = build(false);
    auto eval = web->eval(js, {ok, failed, aborted, cancelled, q1, q2});
    auto path = [&](const char* action) { return "/eval/" + std::to_string(eval) + "/" + action; };
    auto restarter = token("restarter");

    EXPECT_EQ(postWithToken(token("evaluator"), path("restart-failed")).status, 403);
    auto r = postWithToken(restarter, path("restart-aborted"));
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.json()["restarted"], 2);
    EXPECT_EQ(buildState(aborted), "0:-:0:0");
    EXPECT_EQ(buildState(cancelled), "0:-:0:0");
    EXPECT_EQ(buildState(failed), "1:1:0:0");
    EXPECT_EQ(postWithToken(restarter, path("restart-failed")).json()["restarted"], 1);
    EXPECT_EQ(buildState(failed), "0:-:0:0");
    EXPECT_EQ(buildState(ok), "1:0:0:0");

    EXPECT_EQ(postWithToken(token("bumper"), path("bump")).json()["bumped"], 5);
    EXPECT_NE(buildState(q1), "0:-:0:0");
    EXPECT_EQ(buildState(elsewhere), "0:-:0:0");
    EXPECT_EQ(postWithToken(restarter, path("cancel")).status, 403);
    auto cancel = postForm(session("canceller"), path("cancel"), "/eval/" + std::to_string(eval));
    EXPECT_EQ(cancel.status, 302);
    EXPECT_EQ(exec("SELECT count(*) FROM Builds WHERE finished = 1 AND buildStatus = 4"), "5");
    EXPECT_EQ(buildState(elsewhere), "0:-:0:0");
    EXPECT_EQ(postWithToken(restarter, "/eval/999999/restart-failed").status, 404);
}

TEST_F(ServerActionsTest, TriggerAndPushAskForEvaluations)
{
    int other = web->jobset("p", "other"); // the same input value /srv/src
    web->jobset("q", "unrelated");
    exec("UPDATE JobsetInputAlts SET value = '/srv/elsewhere' WHERE project = 'q'");
    ChannelRecorder recorder(conninfo(), {"jobset_scheduling_changed"});
    auto before = std::time(nullptr);

    EXPECT_EQ(postForm(session("nobody"), "/jobset/p/js/trigger").status, 403);
    EXPECT_EQ(exec("SELECT triggerTime FROM Jobsets WHERE id = " + std::to_string(js)), "");
    EXPECT_EQ(postForm(session("evaluator"), "/jobset/p/js/trigger", "/jobset/p/js").status, 302);
    EXPECT_GE(std::stoll(exec("SELECT triggerTime FROM Jobsets WHERE id = " + std::to_string(js))), before);
    EXPECT_TRUE(hasNote(recorder.drain(), "jobset_scheduling_changed"));

    exec("UPDATE Jobsets SET triggerTime = NULL");
    auto evaluator = token("evaluator");
    auto forced = postWithToken(evaluator, "/api/push?jobsets=p:js&force");
    ASSERT_EQ(forced.status, 200) << forced.body;
    EXPECT_EQ(forced.json()["jobsetsTriggered"], nlohmann::json::array({"p:js"}));
    EXPECT_EQ(exec("SELECT forceEval FROM Jobsets WHERE id = " + std::to_string(js)), "t");
    EXPECT_EQ(exec("SELECT triggerTime FROM Jobsets WHERE id = " + std::to_string(other)), "");

    auto byRepo = postWithToken(evaluator, "/api/push?repos=/srv/src");
    ASSERT_EQ(byRepo.status, 200) << byRepo.body;
    EXPECT_EQ(byRepo.json()["jobsetsTriggered"], nlohmann::json::array({"p:other", "p:js"}));
    EXPECT_EQ(exec("SELECT count(*) FROM Jobsets WHERE triggerTime IS NOT NULL"), "2");

    EXPECT_EQ(postWithToken(evaluator, "/api/push?jobsets=nonsense").status, 400);
    EXPECT_EQ(postWithToken(evaluator, "/api/push?jobsets=p:nope").status, 404);
    exec("UPDATE Jobsets SET triggerTime = NULL");
    auto refused = postWithToken(token("bumper"), "/api/push?jobsets=p:js,q:unrelated");
    EXPECT_EQ(refused.status, 403);
    EXPECT_TRUE(refused.json().contains("error"));
    EXPECT_EQ(exec("SELECT count(*) FROM Jobsets WHERE triggerTime IS NOT NULL"), "0");
}

TEST_F(ServerActionsTest, HydrasApiClientPushesWithItsLoginCookie)
{
    // As Hydra's scripts do it: log in, then POST with the session cookie, a same-origin Referer
    // and a JSON content type, no anti-forgery token.
    auto s = session("evaluator");
    auto r = request("POST", "/api/push?jobsets=p:js", "",
                     {{"Cookie", s.cookie},
                      {"Referer", "http://127.0.0.1:" + std::to_string(port()) + "/"},
                      {"Content-Type", "application/json"},
                      {"Accept", "application/json"}});
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.json()["jobsetsTriggered"], nlohmann::json::array({"p:js"}));
    EXPECT_NE(exec("SELECT triggerTime FROM Jobsets WHERE id = " + std::to_string(js)), "");
}

TEST_F(ServerActionsTest, AdminsClearTheQueueOfNonCurrentBuildsAndTheFailedPaths)
{
    auto old = build(false), current = build(false);
    web->eval(js, {old}, 1700000300);
    web->eval(js, {current}, 1700000400);
    int off = web->jobset("p", "off");
    auto adHoc = build(false, 0, off);
    exec("UPDATE Jobsets SET enabled = 0 WHERE id = " + std::to_string(off));
    exec("INSERT INTO FailedPaths (path) VALUES ('/nix/store/a'), ('/nix/store/b')");

    EXPECT_EQ(postForm(session("restarter"), "/admin/clear-queue-non-current").status, 403);
    EXPECT_EQ(postForm(session("member"), "/admin/clear-failed-cache").status, 403);
    EXPECT_EQ(buildState(old), "0:-:0:0");
    EXPECT_EQ(exec("SELECT count(*) FROM FailedPaths"), "2");

    auto boss = token("boss");
    auto cleared = postWithToken(boss, "/admin/clear-queue-non-current");
    ASSERT_EQ(cleared.status, 200) << cleared.body;
    EXPECT_EQ(cleared.json()["cancelled"], 1);
    EXPECT_EQ(exec("SELECT finished || ':' || buildStatus FROM Builds WHERE id = " + std::to_string(old)),
              "1:4");
    EXPECT_EQ(buildState(current), "0:-:0:0");
    EXPECT_EQ(buildState(adHoc), "0:-:0:0");
    EXPECT_EQ(postWithToken(boss, "/admin/clear-failed-cache").json()["cleared"], 2);
    EXPECT_EQ(exec("SELECT count(*) FROM FailedPaths"), "0");
}

TEST_F(ServerActionsTest, PagesShowActionButtonsAsFormsToLoggedInUsersOnly)
{
    auto id = build(true, 1);
    auto page = "/build/" + std::to_string(id);
    EXPECT_EQ(get(page).body.find("/restart"), std::string::npos);
    auto s = session("restarter");
    auto body = get(page, s.headers()).body;
    EXPECT_NE(body.find("<form class=\"action\" method=\"post\" action=\"/build/" + std::to_string(id) +
                        "/restart\">"),
              std::string::npos)
        << body;
    EXPECT_NE(body.find("name=\"csrf\" value=\"" + s.csrf + "\""), std::string::npos);

    // The jobset page's "Evaluate now" forces an evaluation, as Hydra's does.
    auto evaluator = session("evaluator");
    auto jobsetPage = get("/jobset/p/js", evaluator.headers()).body;
    EXPECT_NE(jobsetPage.find("action=\"/jobset/p/js/trigger?force=1\""), std::string::npos) << jobsetPage;
    EXPECT_EQ(postForm(evaluator, "/jobset/p/js/trigger?force=1", "/jobset/p/js").status, 302);
    EXPECT_EQ(exec("SELECT forceEval FROM Jobsets WHERE id = " + std::to_string(js)), "t");
}

} // namespace
} // namespace hydra::test

// Creating, changing, cloning and deleting projects and jobsets through hydra-server over real
// HTTP against a real database: Hydra's API client flow, the pages' forms, who may do what,
// and malformed requests that change nothing.

#include "db/web_auth.hh"
#include "harness/server_fixture.hh"
#include "harness/web_session.hh"
#include "util/secrets.hh"

#include <gtest/gtest.h>

namespace hydra::test {
namespace {

using nlohmann::json;

class ServerProjectEditTest : public ServerFixture {
protected:
    std::string origin() const { return "http://127.0.0.1:" + std::to_string(port()); }

    // Hydra's API clients: a session cookie, a JSON body and a same-origin Referer.
    static std::multimap<std::string, std::string> apiHeaders(const WebSession& s)
    {
        return {{"Cookie", s.cookie},
                {"Referer", "http://127.0.0.1:" + std::to_string(s.port) + "/"},
                {"Content-Type", "application/json"},
                {"Accept", "application/json"}};
    }
    HttpReply put(const WebSession& s, const std::string& path, const json& body)
    {
        return request("PUT", path, body.dump(), apiHeaders(s));
    }

    static json sampleJobset()
    {
        return json{{"nixexprpath", "default.nix"},
                    {"nixexprinput", "my-src"},
                    {"description", "the sample"},
                    {"inputs", {{"my-src", {{"type", "path"}, {"value", "/srv/sample"}}}}},
                    {"enabled", "1"},
                    {"visible", "1"},
                    {"checkinterval", "3600"},
                    {"schedulingshares", 42},
                    {"keepnr", 7},
                    {"enableemail", true},
                    {"emailoverride", "ci@example.org"}};
    }

    // Everything an action could change, to compare before and after a refused one.
    std::string snapshot()
    {
        return exec(
            "SELECT coalesce(string_agg(x, ';' ORDER BY x), '') FROM ("
            "SELECT 'p:' || name || ':' || displayName || ':' || owner || ':' || enabled || ':' || hidden "
            "AS x FROM Projects UNION ALL "
            "SELECT 'j:' || project || ':' || name || ':' || coalesce(description, '') || ':' || enabled "
            "|| ':' || schedulingShares || ':' || checkInterval FROM Jobsets UNION ALL "
            "SELECT 'i:' || project || ':' || jobset || ':' || name || ':' || type FROM JobsetInputs "
            "UNION ALL SELECT 'a:' || input || ':' || coalesce(value, '') FROM JobsetInputAlts) s");
    }

    void createSample(const WebSession& s)
    {
        ASSERT_EQ(
            put(s, "/project/sample", {{"displayname", "Sample"}, {"enabled", "1"}, {"visible", "1"}}).status,
            201);
        ASSERT_EQ(put(s, "/jobset/sample/default", sampleJobset()).status, 201);
    }
};

TEST_F(ServerProjectEditTest, HydrasApiClientFlowCreatesAndReadsBack)
{
    createUser(conn(), "alice", "pw", {"create-projects"});
    startServer();
    auto alice = logIn(port(), "alice", "pw");

    auto created = put(alice, "/project/sample",
                       {{"displayname", "Sample"},
                        {"description", "a sample"},
                        {"homepage", "https://example.org"},
                        {"enabled", "1"},
                        {"visible", "1"}});
    ASSERT_EQ(created.status, 201) << created.body;
    auto answer = created.json();
    EXPECT_EQ(answer["name"], "sample");
    EXPECT_EQ(answer["type"], "project");
    EXPECT_TRUE(answer["uri"].get<std::string>().ends_with("/project/sample")) << answer;
    EXPECT_EQ(answer["redirect"], answer["uri"]);
    EXPECT_EQ(created.header("Location"), answer["uri"]);

    auto project = getJson("/project/sample").json();
    EXPECT_EQ(project["displayname"], "Sample");
    EXPECT_EQ(project["description"], "a sample");
    EXPECT_EQ(project["homepage"], "https://example.org");
    EXPECT_EQ(project["owner"], "alice");
    EXPECT_EQ(project["enabled"], true);
    EXPECT_EQ(project["hidden"], false);

    auto js = put(alice, "/jobset/sample/default", sampleJobset());
    ASSERT_EQ(js.status, 201) << js.body;
    EXPECT_EQ(js.json()["type"], "jobset");
    EXPECT_EQ(js.json()["name"], "default");
    auto jobset = getJson("/jobset/sample/default").json();
    EXPECT_EQ(jobset["nixexprinput"], "my-src");
    EXPECT_EQ(jobset["nixexprpath"], "default.nix");
    EXPECT_EQ(jobset["description"], "the sample");
    EXPECT_EQ(jobset["enabled"], 1);
    EXPECT_EQ(jobset["visible"], true);
    EXPECT_EQ(jobset["checkinterval"], 3600);
    EXPECT_EQ(jobset["schedulingshares"], 42);
    EXPECT_EQ(jobset["keepnr"], 7);
    EXPECT_EQ(jobset["enableemail"], true);
    EXPECT_EQ(jobset["emailoverride"], "ci@example.org");
    EXPECT_EQ(jobset["type"], 0);
    EXPECT_EQ(
        jobset["inputs"]["my-src"],
        (json{{"name", "my-src"}, {"type", "path"}, {"value", "/srv/sample"}, {"emailresponsible", false}}));
    // An enabled jobset with a check interval is due for evaluation at once.
    EXPECT_NE(exec("SELECT triggerTime FROM Jobsets WHERE name = 'default'"), "");

    // Hydra's clients then trigger the new jobset.
    auto push = request("POST", "/api/push?jobsets=sample:default", "", apiHeaders(alice));
    ASSERT_EQ(push.status, 200) << push.body;
    EXPECT_EQ(push.json()["jobsetsTriggered"], (json{"sample:default"}));

    // Updates answer 200 {redirect}; a flake jobset drops the inputs.
    auto upd = put(alice, "/project/sample", {{"displayname", "Sample 2"}, {"enabled", "1"}});
    ASSERT_EQ(upd.status, 200) << upd.body;
    EXPECT_TRUE(upd.json()["redirect"].get<std::string>().ends_with("/project/sample#tabs-configuration"));
    EXPECT_EQ(getJson("/project/sample").json()["hidden"], true);
    auto flake = put(alice, "/jobset/sample/default",
                     {{"type", 1}, {"flake", "github:NixOS/patchelf"}, {"enabled", 2}, {"visible", true}});
    ASSERT_EQ(flake.status, 200) << flake.body;
    jobset = getJson("/jobset/sample/default").json();
    EXPECT_EQ(jobset["type"], 1);
    EXPECT_EQ(jobset["flake"], "github:NixOS/patchelf");
    EXPECT_EQ(jobset["nixexprinput"], "");
    EXPECT_EQ(jobset["enabled"], 2);
    EXPECT_TRUE(jobset["inputs"].empty());
}

TEST_F(ServerProjectEditTest, RenamesKeepTheDataAndRecordTheOldJobsetName)
{
    createUser(conn(), "alice", "pw", {"create-projects"});
    startServer();
    auto alice = logIn(port(), "alice", "pw");
    createSample(alice);
    auto body = sampleJobset();
    body["name"] = "renamed";
    ASSERT_EQ(put(alice, "/jobset/sample/default", body).status, 200);
    // The old name's pages moved to the new name's, as Hydra redirects them.
    auto moved = getJson("/jobset/sample/default/evals?page=1");
    EXPECT_EQ(moved.status, 301);
    EXPECT_EQ(moved.header("Location"), "/jobset/sample/renamed/evals");
    EXPECT_EQ(get("/job/sample/default/hello/latest").header("Location"), "/job/sample/renamed/hello/latest");
    EXPECT_EQ(getJson("/jobset/sample/never-was").status, 404);
    EXPECT_EQ(getJson("/jobset/sample/renamed").json()["inputs"]["my-src"]["value"], "/srv/sample");
    EXPECT_EQ(exec("SELECT to_ FROM JobsetRenames WHERE project = 'sample' AND from_ = 'default'"),
              "renamed");

    ASSERT_EQ(put(alice, "/project/sample", {{"name", "sample2"}, {"displayname", "S"}}).status, 200);
    EXPECT_EQ(getJson("/jobset/sample2/renamed").status, 200);
    EXPECT_EQ(exec("SELECT project FROM JobsetInputs WHERE name = 'my-src'"), "sample2");

    // A rename onto a taken name is a conflict and changes nothing.
    ASSERT_EQ(put(alice, "/project/other", {{"displayname", "Other"}}).status, 201);
    auto before = snapshot();
    EXPECT_EQ(put(alice, "/project/other", {{"name", "sample2"}, {"displayname", "x"}}).status, 409);
    EXPECT_EQ(snapshot(), before);
}

TEST_F(ServerProjectEditTest, EachActionNeedsItsRole)
{
    createUser(conn(), "alice", "pw", {"create-projects"});
    createUser(conn(), "bob", "pw", {"restart-jobs", "cancel-build", "bump-to-front", "eval-jobset"});
    createUser(conn(), "carol", "pw");
    createUser(conn(), "root", "pw", {"admin"});
    startServer();
    auto alice = logIn(port(), "alice", "pw");
    auto bob = logIn(port(), "bob", "pw");
    auto carol = logIn(port(), "carol", "pw");
    auto root = logIn(port(), "root", "pw");

    // Creating a project needs create-projects (or admin).
    auto before = snapshot();
    EXPECT_EQ(put(bob, "/project/mine", {{"displayname", "Mine"}}).status, 403);
    EXPECT_EQ(snapshot(), before);
    createSample(alice);

    // Changing it needs its owner, a member or an admin; other users' roles do not count.
    before = snapshot();
    EXPECT_EQ(put(bob, "/project/sample", {{"displayname", "Bob's"}}).status, 403);
    EXPECT_EQ(put(bob, "/jobset/sample/default", sampleJobset()).status, 403);
    EXPECT_EQ(put(bob, "/jobset/sample/new", sampleJobset()).status, 403);
    EXPECT_EQ(request("DELETE", "/project/sample", "", apiHeaders(bob)).status, 403);
    EXPECT_EQ(snapshot(), before);
    exec("INSERT INTO ProjectMembers (project, userName) VALUES ('sample', 'carol')");
    EXPECT_EQ(put(carol, "/jobset/sample/second", sampleJobset()).status, 201);
    auto noOwner = put(root, "/project/sample", {{"displayname", "By root"}, {"owner", "nobody"}});
    EXPECT_EQ(noOwner.status, 400);
    EXPECT_NE(noOwner.body.find("owner"), std::string::npos) << noOwner.body;
    EXPECT_EQ(put(root, "/project/sample", {{"displayname", "By root"}, {"owner", "bob"}}).status, 200);
    EXPECT_EQ(getJson("/project/sample").json()["owner"], "bob");

    // Deleting a jobset is for admins only, even for the project's members.
    before = snapshot();
    EXPECT_EQ(request("DELETE", "/jobset/sample/second", "", apiHeaders(carol)).status, 403);
    EXPECT_EQ(snapshot(), before);
    auto del = request("DELETE", "/jobset/sample/second", "", apiHeaders(root));
    ASSERT_EQ(del.status, 200) << del.body;
    EXPECT_TRUE(del.json()["redirect"].get<std::string>().ends_with("/project/sample"));
    EXPECT_EQ(exec("SELECT count(*) FROM Jobsets WHERE name = 'second'"), "0");

    // The owner (now bob) deletes the project, with its jobsets, evaluations and builds.
    int jobsetId = std::stoi(exec("SELECT id FROM Jobsets WHERE project = 'sample' AND name = 'default'"));
    rows().queueBuild(jobsetId, "hello", "/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-hello.drv",
                      "/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-hello");
    exec("INSERT INTO JobsetEvals (jobset_id, timestamp, checkoutTime, evalTime, hasNewBuilds, hash) "
         "VALUES (" +
         std::to_string(jobsetId) + ", 1, 0, 0, 1, 'h')");
    auto gone = request("DELETE", "/project/sample", "", apiHeaders(bob));
    ASSERT_EQ(gone.status, 200) << gone.body;
    EXPECT_NE(gone.json()["redirect"], nullptr);
    EXPECT_EQ(exec("SELECT count(*) FROM Projects"), "0");
    EXPECT_EQ(exec("SELECT count(*) FROM Builds"), "0");
    EXPECT_EQ(exec("SELECT count(*) FROM JobsetEvals"), "0");
}

TEST_F(ServerProjectEditTest, AnonymousForeignOriginAndForgedFormsChangeNothing)
{
    createUser(conn(), "alice", "pw", {"create-projects"});
    startServer();
    auto alice = logIn(port(), "alice", "pw");
    createSample(alice);
    auto before = snapshot();
    auto body = json{{"displayname", "Evil"}}.dump();

    // Anonymous: refused (Hydra answers 403 "requires you to sign in").
    auto anonymous = request("PUT", "/project/evil", body, {{"Content-Type", "application/json"}});
    EXPECT_TRUE(anonymous.status == 401 || anonymous.status == 403) << anonymous.status;
    auto anonymousDelete = request("DELETE", "/project/sample");
    EXPECT_TRUE(anonymousDelete.status == 401 || anonymousDelete.status == 403) << anonymousDelete.status;
    // The cookie from another site's page: PUT and DELETE are checked too.
    std::multimap<std::string, std::string> foreign = {
        {"Cookie", alice.cookie}, {"Origin", "https://evil.example"}, {"Content-Type", "application/json"}};
    EXPECT_EQ(request("PUT", "/project/evil", body, foreign).status, 403);
    EXPECT_EQ(request("PUT", "/project/sample", body, foreign).status, 403);
    EXPECT_EQ(request("DELETE", "/project/sample", "", foreign).status, 403);
    // No Origin and no Referer at all.
    EXPECT_EQ(request("PUT", "/project/evil", body, {{"Cookie", alice.cookie}}).status, 403);
    // A form without (or with a wrong) anti-forgery token.
    EXPECT_EQ(request("POST", "/create-project", "name=evil&displayname=Evil", alice.formHeaders()).status,
              403);
    EXPECT_EQ(request("POST", "/project/sample/delete", "csrf=guess", alice.formHeaders()).status, 403);
    EXPECT_EQ(request("POST", "/jobset/sample/default/edit", "name=default&nixexprinput=x&nixexprpath=y",
                      alice.formHeaders())
                  .status,
              403);
    // GET never changes anything, whatever it is sent with.
    EXPECT_EQ(get("/project/sample/delete", alice.headers()).status, 405);
    EXPECT_EQ(snapshot(), before);
}

TEST_F(ServerProjectEditTest, MalformedBodiesAndBadNamesAre400NamingTheField)
{
    createUser(conn(), "alice", "pw", {"create-projects"});
    startServer();
    auto alice = logIn(port(), "alice", "pw");
    createSample(alice);
    auto before = snapshot();

    auto expect400 = [&](const HttpReply& r, const std::string& word) {
        EXPECT_EQ(r.status, 400) << r.body;
        EXPECT_NE(r.body.find(word), std::string::npos) << "expected ‘" << word << "’ in " << r.body;
    };
    expect400(request("PUT", "/project/x", "{\"displayname\": ", apiHeaders(alice)), "JSON");
    expect400(request("PUT", "/project/x", "[1]", apiHeaders(alice)), "object");
    expect400(put(alice, "/project/x", json::object()), "displayname");
    expect400(put(alice, "/project/1abc", {{"displayname", "x"}}), "1abc");
    expect400(put(alice, "/project/x", {{"displayname", "x"}, {"name", "a'; DROP TABLE Projects; --"}}),
              "name");
    expect400(
        put(alice, "/project/x", {{"displayname", "x"}, {"declarative", {{"file", "../../etc/passwd"}}}}),
        "declarative.file");
    auto with = [&](const std::string& key, json value) {
        auto b = sampleJobset();
        b[key] = std::move(value);
        return put(alice, "/jobset/sample/default", b);
    };
    expect400(with("nixexprpath", "../../etc/passwd"), "nixexprpath");
    expect400(with("nixexprinput", "$(reboot)"), "nixexprinput");
    expect400(with("schedulingshares", 0), "schedulingshares");
    expect400(with("enabled", 7), "enabled");
    expect400(with("checkinterval", "soon"), "checkinterval");
    expect400(with("type", 5), "type");
    expect400(with("inputs", {{"src", {{"type", "cvs"}, {"value", "x"}}}}), "inputs.src.type");
    expect400(with("inputs", {{"bad name", {{"type", "path"}, {"value", "x"}}}}), "bad name");
    expect400(with("inputs", {{"flag", {{"type", "boolean"}, {"value", "maybe"}}}}), "inputs.flag.value");
    expect400(with("name", "no/slash"), "name");
    // Only admins choose an owner; for others the field is ignored, as in Hydra.
    ASSERT_EQ(put(alice, "/project/sample",
                  {{"displayname", "Sample"}, {"enabled", "1"}, {"visible", "1"}, {"owner", "nobody"}})
                  .status,
              200);
    // A path segment that would leave its directory never reaches a handler.
    EXPECT_EQ(put(alice, "/jobset/sample/..", sampleJobset()).status, 400);
    // Oversized bodies are refused before they are read.
    auto huge = request("PUT", "/project/x", std::string(2 << 20, ' '), apiHeaders(alice));
    EXPECT_EQ(huge.status, 413);
    EXPECT_EQ(snapshot(), before);
}

TEST_F(ServerProjectEditTest, DeclarativeProjectsGetTheirJobsetsFromTheSpecificationOnly)
{
    createUser(conn(), "root", "pw", {"admin"});
    startServer();
    auto root = logIn(port(), "root", "pw");
    auto r = put(root, "/project/decl",
                 {{"displayname", "Declarative"},
                  {"enabled", "1"},
                  {"declarative", {{"file", "spec.json"}, {"type", "path"}, {"value", "/srv/decl"}}}});
    ASSERT_EQ(r.status, 201) << r.body;
    auto project = getJson("/project/decl").json();
    EXPECT_EQ(project["declarative"],
              (json{{"file", "spec.json"}, {"type", "path"}, {"value", "/srv/decl"}}));
    EXPECT_EQ(project["jobsets"], (json{".jobsets"}));
    EXPECT_EQ(exec("SELECT hidden FROM Jobsets WHERE name = '.jobsets'"), "1");
    auto before = snapshot();
    auto refused = put(root, "/jobset/decl/main", sampleJobset());
    EXPECT_EQ(refused.status, 403);
    EXPECT_NE(refused.body.find("declarative"), std::string::npos);
    EXPECT_EQ(request("DELETE", "/jobset/decl/.jobsets", "", apiHeaders(root)).status, 403);
    EXPECT_EQ(snapshot(), before);
    // No longer declarative: the .jobsets jobset goes.
    ASSERT_EQ(put(root, "/project/decl", {{"displayname", "Plain"}}).status, 200);
    EXPECT_EQ(exec("SELECT count(*) FROM Jobsets WHERE project = 'decl'"), "0");
    EXPECT_EQ(put(root, "/jobset/decl/main", sampleJobset()).status, 201);
}

TEST_F(ServerProjectEditTest, BrowsersCreateEditCloneAndDeleteWithTheForms)
{
    createUser(conn(), "alice", "pw", {"create-projects"});
    createUser(conn(), "root", "pw", {"admin"});
    startServer();
    auto alice = logIn(port(), "alice", "pw");

    auto page = get("/create-project", alice.headers());
    ASSERT_EQ(page.status, 200) << page.body;
    EXPECT_NE(page.body.find("name=\"csrf\" value=\"" + alice.csrf + "\""), std::string::npos) << page.body;
    EXPECT_EQ(get("/create-project").status, 403); // anonymous: nothing to fill in

    auto created =
        request("POST", "/create-project", alice.form("name=web&displayname=Web+Project&enabled=1&visible=1"),
                alice.formHeaders());
    ASSERT_EQ(created.status, 302) << created.body;
    EXPECT_TRUE(created.header("Location").ends_with("/project/web"));
    EXPECT_EQ(getJson("/project/web").json()["displayname"], "Web Project");

    // The pages link to the forms for those who may use them, and only for them.
    EXPECT_NE(get("/", alice.headers()).body.find("/create-project"), std::string::npos);
    EXPECT_EQ(get("/").body.find("/create-project"), std::string::npos);
    EXPECT_NE(get("/project/web", alice.headers()).body.find("/project/web/edit"), std::string::npos);
    EXPECT_EQ(get("/project/web").body.find("/project/web/edit"), std::string::npos);
    ASSERT_EQ(get("/project/web/create-jobset", alice.headers()).status, 200);
    auto js = request("POST", "/project/web/create-jobset",
                      alice.form("name=main&nixexprinput=src&nixexprpath=release.nix&enabled=1&visible=1&"
                                 "checkinterval=60&schedulingshares=10&keepnr=2&input-0-name=src&"
                                 "input-0-type=git&input-0-value=https%3A%2F%2Fexample.org%2Fr.git+main&"
                                 "input-1-name=&input-1-type=git&input-1-value="),
                      alice.formHeaders());
    ASSERT_EQ(js.status, 302) << js.body;
    auto main = getJson("/jobset/web/main").json();
    EXPECT_EQ(main["inputs"]["src"]["value"], "https://example.org/r.git main");
    EXPECT_EQ(main["inputs"].size(), 1U);

    EXPECT_NE(get("/jobset/web/main", alice.headers()).body.find("/jobset/web/main/clone"),
              std::string::npos);
    EXPECT_EQ(get("/jobset/web/main").body.find("/jobset/web/main/edit"), std::string::npos);
    auto edit = get("/jobset/web/main/edit", alice.headers());
    ASSERT_EQ(edit.status, 200);
    EXPECT_NE(edit.body.find("https://example.org/r.git main"), std::string::npos);
    ASSERT_EQ(request("POST", "/jobset/web/main/edit",
                      alice.form("name=main&nixexprinput=src&nixexprpath=ci.nix&enabled=0&"
                                 "checkinterval=0&schedulingshares=5&input-0-name=src&input-0-type=path&"
                                 "input-0-value=%2Fsrv"),
                      alice.formHeaders())
                  .status,
              302);
    main = getJson("/jobset/web/main").json();
    EXPECT_EQ(main["nixexprpath"], "ci.nix");
    EXPECT_EQ(main["enabled"], 0);
    EXPECT_EQ(main["visible"], false);

    auto clonePage = get("/jobset/web/main/clone", alice.headers());
    ASSERT_EQ(clonePage.status, 200);
    EXPECT_NE(clonePage.body.find("ci.nix"), std::string::npos);
    ASSERT_EQ(request("POST", "/jobset/web/main/clone",
                      alice.form("name=copy&nixexprinput=src&nixexprpath=ci.nix&enabled=1&schedulingshares=5&"
                                 "input-0-name=src&input-0-type=path&input-0-value=%2Fsrv"),
                      alice.formHeaders())
                  .status,
              302);
    EXPECT_EQ(getJson("/jobset/web/copy").json()["nixexprpath"], "ci.nix");
    EXPECT_EQ(getJson("/jobset/web/main").status, 200);

    // The edit page of a project offers deletion; the owner deletes it with the form.
    auto projectEdit = get("/project/web/edit", alice.headers());
    ASSERT_EQ(projectEdit.status, 200);
    EXPECT_NE(projectEdit.body.find("/project/web/delete"), std::string::npos);
    auto deleted = request("POST", "/project/web/delete", alice.form(), alice.formHeaders());
    ASSERT_EQ(deleted.status, 302) << deleted.body;
    EXPECT_EQ(exec("SELECT count(*) FROM Projects"), "0");
}

TEST_F(ServerProjectEditTest, ScriptsWithAnApiTokenNeedNoOriginUntilItIsRevoked)
{
    createUser(conn(), "alice", "pw", {"create-projects"});
    std::string token(64, 'a');
    {
        pqxx::work t(conn());
        db::createApiToken(t, "alice", "ci", sha256Hex(token), 1'000'000'000);
        t.commit();
    }
    startServer();
    std::multimap<std::string, std::string> bearer = {{"Authorization", "Bearer " + token},
                                                      {"Content-Type", "application/json"}};
    auto created = request("PUT", "/project/scripted", json{{"displayname", "By script"}}.dump(), bearer);
    ASSERT_EQ(created.status, 201) << created.body;
    EXPECT_EQ(getJson("/project/scripted").json()["owner"], "alice");
    ASSERT_EQ(request("PUT", "/jobset/scripted/main", sampleJobset().dump(), bearer).status, 201);

    {
        pqxx::work t(conn());
        db::revokeApiToken(t, "alice", "ci");
        t.commit();
    }
    auto before = snapshot();
    auto refused = request("PUT", "/project/scripted", json{{"displayname", "Changed"}}.dump(), bearer);
    EXPECT_TRUE(refused.status == 401 || refused.status == 403) << refused.status << refused.body;
    auto refusedDelete = request("DELETE", "/project/scripted", "", bearer);
    EXPECT_TRUE(refusedDelete.status == 401 || refusedDelete.status == 403) << refusedDelete.status;
    EXPECT_EQ(snapshot(), before);
}

} // namespace
} // namespace hydra::test

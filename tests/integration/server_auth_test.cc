// hydra-server's accounts over real HTTP against a real database: logging in (JSON and form),
// the session cookie, sessions shared by server processes, logout, API tokens, the same-site
// checks on logins, the failed-login throttle and private sites.

#include "db/web_auth.hh"
#include "harness/server_fixture.hh"
#include "harness/web_rows.hh"
#include "harness/web_session.hh"
#include "nix/signing.hh"
#include "util/secrets.hh"

#include <gtest/gtest.h>

namespace hydra::test {
namespace {

class ServerAuthTest : public ServerFixture {
protected:
    std::string origin() const { return "http://127.0.0.1:" + std::to_string(port()); }

    HttpReply postLogin(const std::string& user, const std::string& password,
                        std::multimap<std::string, std::string> headers)
    {
        headers.emplace("Content-Type", "application/json");
        headers.emplace("Accept", "application/json");
        return request("POST", "/login", nlohmann::json{{"username", user}, {"password", password}}.dump(),
                       headers);
    }
    HttpReply postLogin(const std::string& user, const std::string& password)
    {
        return postLogin(user, password, {{"Referer", origin() + "/"}});
    }
    int sessions() { return std::stoi(exec("SELECT count(*) FROM hydra_web.Sessions")); }
};

TEST_F(ServerAuthTest, JsonLoginAnswersAsHydraAndSetsAHttpOnlySessionCookie)
{
    createUser(conn(), "alice", "correct horse", {"restart-jobs", "cancel-build"});
    startServer();
    auto r = postLogin("alice", "correct horse");
    ASSERT_EQ(r.status, 302) << r.body;
    EXPECT_TRUE(r.header("Location").ends_with("/current-user")) << r.header("Location");
    auto user = r.json();
    EXPECT_EQ(user["username"], "alice");
    EXPECT_EQ(user["emailaddress"], "alice@example.org");
    EXPECT_EQ(user["userroles"], (nlohmann::json{"cancel-build", "restart-jobs"}));

    auto cookie = r.header("Set-Cookie");
    EXPECT_NE(cookie.find("HttpOnly"), std::string::npos) << cookie;
    EXPECT_NE(cookie.find("SameSite=Lax"), std::string::npos) << cookie;
    EXPECT_NE(cookie.find("Max-Age=604800"), std::string::npos) << cookie; // 7 days
    EXPECT_EQ(cookie.find("Secure"), std::string::npos) << "plain HTTP: " << cookie;
    auto token = setCookieValue(r, "hydra_session");
    ASSERT_EQ(token.size(), 64u);

    // Only the token's hash is stored, and the session expires in 7 days.
    EXPECT_EQ(exec("SELECT count(*) FROM hydra_web.Sessions WHERE tokenHash = '" + token + "'"), "0");
    EXPECT_EQ(exec("SELECT expires - created FROM hydra_web.Sessions WHERE tokenHash = '" + sha256Hex(token) +
                   "' AND userName = 'alice'"),
              "604800");

    auto me = get("/current-user", {{"Cookie", "hydra_session=" + token}, {"Accept", "application/json"}});
    ASSERT_EQ(me.status, 200) << me.body;
    EXPECT_EQ(me.json()["username"], "alice");
}

TEST_F(ServerAuthTest, BehindHttpsTheCookieIsSecure)
{
    createUser(conn(), "alice", "pw-alice");
    startServer();
    auto r = postLogin("alice", "pw-alice",
                       {{"Referer", "https://hydra.example.org/"},
                        {"X-Forwarded-Proto", "https"},
                        {"X-Forwarded-Host", "hydra.example.org"}});
    ASSERT_EQ(r.status, 302) << r.body;
    EXPECT_NE(r.header("Set-Cookie").find("; Secure"), std::string::npos) << r.header("Set-Cookie");
}

TEST_F(ServerAuthTest, BadCredentialsAre403AndCreateNoSession)
{
    createUser(conn(), "alice", "right");
    startServer();
    auto wrong = postLogin("alice", "wrong");
    EXPECT_EQ(wrong.status, 403);
    EXPECT_EQ(wrong.json()["error"], "Bad username or password.");
    EXPECT_EQ(postLogin("nobody", "right").status, 403);
    EXPECT_EQ(setCookieValue(wrong, "hydra_session"), "");
    EXPECT_EQ(sessions(), 0);
    // Malformed bodies are 400 with a message naming what is missing.
    auto bad = request("POST", "/login", "{\"username\": 3}",
                       {{"Content-Type", "application/json"}, {"Referer", origin() + "/"}});
    EXPECT_EQ(bad.status, 400);
    EXPECT_NE(bad.body.find("username"), std::string::npos) << bad.body;
    EXPECT_EQ(
        request("POST", "/login", "not json", {{"Content-Type", "application/json"}, {"Referer", origin()}})
            .status,
        400);
}

TEST_F(ServerAuthTest, LoginsFromAnotherSiteOrFromNowhereAreRefused)
{
    createUser(conn(), "alice", "pw");
    startServer();
    EXPECT_EQ(postLogin("alice", "pw", {{"Origin", "https://evil.example"}}).status, 403);
    EXPECT_EQ(postLogin("alice", "pw", {{"Referer", "https://evil.example/" + origin()}}).status, 403);
    EXPECT_EQ(postLogin("alice", "pw", {}).status, 403);
    EXPECT_EQ(sessions(), 0);
    EXPECT_EQ(postLogin("alice", "pw", {{"Origin", origin()}}).status, 302);
}

TEST_F(ServerAuthTest, FormLoginGoesBackToThePageAndNeverOffSite)
{
    createUser(conn(), "alice", "pw a");
    startServer();
    auto page = get("/login?next=/queue");
    ASSERT_EQ(page.status, 200);
    EXPECT_NE(page.body.find("name=\"password\""), std::string::npos);
    std::multimap<std::string, std::string> form{{"Content-Type", "application/x-www-form-urlencoded"},
                                                 {"Origin", origin()}};
    auto r = request("POST", "/login", "username=alice&password=pw+a&next=%2Fqueue", form);
    ASSERT_EQ(r.status, 302) << r.body;
    EXPECT_EQ(r.header("Location"), "/queue");
    EXPECT_FALSE(setCookieValue(r, "hydra_session").empty());
    // An absolute or protocol-relative `next` would make the login an open redirect.
    for (auto next : {"https%3A%2F%2Fevil.example%2F", "%2F%2Fevil.example%2F"}) {
        auto off = request("POST", "/login", std::string("username=alice&password=pw+a&next=") + next, form);
        EXPECT_EQ(off.header("Location"), "/") << next;
    }
    auto wrong = request("POST", "/login", "username=alice&password=nope&next=%2Fqueue", form);
    EXPECT_EQ(wrong.status, 403);
    EXPECT_NE(wrong.body.find("Bad username or password."), std::string::npos);
}

TEST_F(ServerAuthTest, PagesShowWhoIsLoggedInAndOfferLogout)
{
    createUser(conn(), "alice", "pw");
    startServer();
    auto anonymous = get("/");
    EXPECT_NE(anonymous.body.find(">Log in</a>"), std::string::npos);
    auto s = logIn(port(), "alice", "pw");
    auto mine = get("/", {{"Cookie", s.cookie}});
    EXPECT_NE(mine.body.find(">alice</a>"), std::string::npos);
    EXPECT_NE(mine.body.find("action=\"/logout\""), std::string::npos);
    EXPECT_EQ(mine.body.find(">Log in</a>"), std::string::npos);
}

TEST_F(ServerAuthTest, LogoutEndsTheSessionEverywhere)
{
    createUser(conn(), "alice", "pw");
    startServer();
    auto s = logIn(port(), "alice", "pw");
    auto r = request("POST", "/logout", "", s.headers());
    EXPECT_EQ(r.status, 204);
    EXPECT_NE(r.header("Set-Cookie").find("Max-Age=0"), std::string::npos);
    EXPECT_EQ(sessions(), 0);
    // The old cookie, replayed, is anonymous now.
    EXPECT_EQ(get("/current-user", {{"Cookie", s.cookie}, {"Accept", "application/json"}}).status, 403);
}

TEST_F(ServerAuthTest, SessionsLiveInTheDatabaseSharedByServersAndRestarts)
{
    createUser(conn(), "alice", "pw");
    startServer();
    auto s = logIn(port(), "alice", "pw");
    TestDaemon second(serverBinary(), stateDir() + "/second.log");
    int port2 = startServerDaemon(second, serverEnv());
    ASSERT_NE(port2, 0);
    auto there = httpRequest(port2, "GET", "/current-user", "",
                             {{"Cookie", s.cookie}, {"Accept", "application/json"}});
    EXPECT_EQ(there.status, 200) << there.body;
    EXPECT_EQ(there.json()["username"], "alice");
    second.stop();
    stopServer();
    startServer();
    EXPECT_EQ(get("/current-user", {{"Cookie", s.cookie}, {"Accept", "application/json"}}).status, 200);
    // An expired session is anonymous.
    exec("UPDATE hydra_web.Sessions SET expires = created - 1");
    EXPECT_EQ(get("/current-user", {{"Cookie", s.cookie}, {"Accept", "application/json"}}).status, 403);
}

TEST_F(ServerAuthTest, BearerTokensAuthenticateScriptsUntilRevoked)
{
    createUser(conn(), "robot", "pw", {"eval-jobset"});
    auto token = randomToken();
    {
        pqxx::work w(conn());
        db::createApiToken(w, "robot", "ci", sha256Hex(token), 1000);
        w.commit();
    }
    startServer();
    std::multimap<std::string, std::string> bearer{{"Authorization", "Bearer " + token},
                                                   {"Accept", "application/json"}};
    auto me = get("/current-user", bearer);
    ASSERT_EQ(me.status, 200) << me.body;
    EXPECT_EQ(me.json()["username"], "robot");
    EXPECT_EQ(me.json()["userroles"], nlohmann::json{"eval-jobset"});
    EXPECT_NE(exec("SELECT lastUsed FROM hydra_web.ApiTokens WHERE name = 'ci'"), "");

    {
        pqxx::work w(conn());
        db::revokeApiToken(w, "robot", "ci");
        w.commit();
    }
    auto revoked = get("/current-user", bearer);
    EXPECT_EQ(revoked.status, 401);
    EXPECT_EQ(revoked.header("WWW-Authenticate"), "Bearer");
    EXPECT_EQ(get("/", {{"Authorization", "Bearer not-a-token"}}).status, 401);
}

TEST_F(ServerAuthTest, RepeatedFailedLoginsFromOneAddressAreSlowedDown)
{
    createUser(conn(), "alice", "right");
    startServer();
    for (int i = 0; i < 5; ++i) EXPECT_EQ(postLogin("alice", "guess" + std::to_string(i)).status, 403) << i;
    auto slowed = postLogin("alice", "right");
    EXPECT_EQ(slowed.status, 429);
    EXPECT_FALSE(slowed.header("Retry-After").empty());
    EXPECT_EQ(sessions(), 0);
    EXPECT_NE(serverLog().find("too many failed logins"), std::string::npos);
    // Behind a reverse proxy on this machine, clients are told apart by X-Forwarded-For: the
    // throttled one does not lock out another.
    auto other = postLogin("alice", "right", {{"Referer", origin() + "/"}, {"X-Forwarded-For", "192.0.2.7"}});
    EXPECT_EQ(other.status, 302) << other.body;
    for (int i = 0; i < 6; ++i)
        postLogin("alice", "bad", {{"Referer", origin() + "/"}, {"X-Forwarded-For", "192.0.2.8"}});
    EXPECT_EQ(
        postLogin("alice", "right", {{"Referer", origin() + "/"}, {"X-Forwarded-For", "192.0.2.8"}}).status,
        429);
    // A client cannot escape by claiming another address before the proxy's entry.
    EXPECT_EQ(postLogin("alice", "right",
                        {{"Referer", origin() + "/"}, {"X-Forwarded-For", "203.0.113.1, 192.0.2.8"}})
                  .status,
              429);
}

TEST_F(ServerAuthTest, LoginUpgradesALegacySha1PasswordHash)
{
    // sha1("foobar"), as old Hydra versions stored passwords.
    exec("INSERT INTO Users (userName, emailAddress, password) VALUES "
         "('old', 'old@example.org', '8843d7f92416211de9ebb963ff4ce28125932878')");
    startServer();
    ASSERT_EQ(postLogin("old", "foobar").status, 302);
    EXPECT_EQ(exec("SELECT password LIKE '$argon2id$%' FROM Users WHERE userName = 'old'"), "t");
    EXPECT_EQ(postLogin("old", "foobar").status, 302);
}

TEST_F(ServerAuthTest, APrivateSiteShowsOnlyTheLoginPageToStrangers)
{
    createUser(conn(), "alice", "pw");
    addConfig("private = 1\n");
    startServer();
    EXPECT_EQ(get("/").status, 403);
    EXPECT_EQ(getJson("/api/jobsets?project=x").status, 403);
    EXPECT_EQ(get("/login").status, 200);
    EXPECT_EQ(get("/static/style.css").status, 200);
    auto s = logIn(port(), "alice", "pw");
    EXPECT_EQ(get("/", {{"Cookie", s.cookie}}).status, 200);
}

TEST_F(ServerAuthTest, APostWithoutABodyAsCurlSendsItIsServed)
{
    // `curl -X POST URL` sends neither Content-Length nor a body: Hydra's scripts do that.
    createUser(conn(), "robot", "pw", {"eval-jobset"});
    WebRows(conn()).jobset("p", "j");
    auto token = randomToken();
    {
        pqxx::work w(conn());
        db::createApiToken(w, "robot", "ci", sha256Hex(token), 1000);
        w.commit();
    }
    startServer();
    auto answer =
        rawHttpExchange(port(), "POST /api/push?jobsets=p:j HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                "Authorization: Bearer " +
                                    token + "\r\nAccept: application/json\r\nConnection: close\r\n\r\n");
    EXPECT_TRUE(answer.starts_with("HTTP/1.1 200")) << answer;
    EXPECT_NE(answer.find("\"jobsetsTriggered\":[\"p:j\"]"), std::string::npos) << answer;
    EXPECT_EQ(exec("SELECT count(*) FROM Jobsets WHERE name = 'j' AND triggerTime IS NOT NULL"), "1");
    // Anonymous, it is refused in JSON, as everything under /api/ answers.
    auto anonymous = rawHttpExchange(port(), "POST /api/push?jobsets=p:j HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                             "Connection: close\r\n\r\n");
    EXPECT_TRUE(anonymous.starts_with("HTTP/1.1 403")) << anonymous;
    EXPECT_NE(anonymous.find("{\"error\":\"This page requires you to sign in.\"}"), std::string::npos)
        << anonymous;
}

TEST_F(ServerAuthTest, APrivateBinaryCacheLetsNixInWithAnApiTokenAsItsNetrcPassword)
{
    createUser(conn(), "alice", "pw");
    createUser(conn(), "bob", "pw");
    auto token = randomToken();
    {
        pqxx::work w(conn());
        db::createApiToken(w, "alice", "laptop", sha256Hex(token), 1000);
        w.commit();
    }
    addConfig("private = 1\n");
    startServer();
    auto basic = [](const std::string& user, const std::string& password) {
        return std::multimap<std::string, std::string>{
            {"Authorization", "Basic " + nix::base64Encode(user + ":" + password)}};
    };
    EXPECT_EQ(get("/nix-cache-info").status, 403);
    auto in = get("/nix-cache-info", basic("alice", token));
    EXPECT_EQ(in.status, 200) << in.body;
    EXPECT_NE(in.body.find("StoreDir:"), std::string::npos);
    // The token is alice's: under another name, or alice's password instead, it is refused.
    EXPECT_EQ(get("/nix-cache-info", basic("bob", token)).status, 401);
    EXPECT_EQ(get("/nix-cache-info", basic("alice", "pw")).status, 401);
    // A browser may attach cached Basic credentials by itself: with them, a change from another
    // site is refused like one carried by a session cookie.
    auto foreign = basic("alice", token);
    foreign.emplace("Origin", "https://evil.example");
    EXPECT_EQ(request("POST", "/logout", "", foreign).status, 403);
    auto form = basic("alice", token);
    form.emplace("Origin", origin());
    form.emplace("Content-Type", "application/x-www-form-urlencoded");
    EXPECT_EQ(request("POST", "/user/alice/tokens", "csrf=&name=x", form).status, 403);
    EXPECT_EQ(exec("SELECT count(*) FROM hydra_web.ApiTokens WHERE userName = 'alice'"), "1");
}

} // namespace
} // namespace hydra::test

// hydra-server's account pages over real HTTP against a real database: API tokens made on the
// page and used by a script, users and roles administered by admins, password changes, and
// every refusal (another user, too weak a role, a foreign origin, a form without its
// anti-forgery token) leaving the database as it was.

#include "db/users.hh"
#include "db/web_auth.hh"
#include "harness/server_fixture.hh"
#include "harness/web_session.hh"
#include "util/password.hh"
#include "util/secrets.hh"

#include <gtest/gtest.h>
#include <regex>

namespace hydra::test {
namespace {

// A browser logged in to the server (WebSession) that may also claim to come from another site.
struct Browser {
    std::string cookie, csrf, origin;

    std::multimap<std::string, std::string> headers() const
    {
        return {{"Cookie", cookie}, {"Origin", origin}};
    }
    std::multimap<std::string, std::string> formHeaders() const
    {
        auto h = headers();
        h.emplace("Content-Type", "application/x-www-form-urlencoded");
        return h;
    }
    std::multimap<std::string, std::string> jsonHeaders() const
    {
        auto h = headers();
        h.emplace("Content-Type", "application/json");
        h.emplace("Accept", "application/json");
        return h;
    }
};

std::multimap<std::string, std::string> bearer(const std::string& token)
{
    return {{"Authorization", "Bearer " + token}, {"Accept", "application/json"}};
}

class ServerAccountsTest : public ServerFixture {
protected:
    void SetUp() override
    {
        ServerFixture::SetUp();
        makeUser("root", "root-password", {"admin"});
        makeUser("alice", "alice-password");
        makeUser("bob", "bob-password", {"restart-jobs"});
        startServer();
        origin = "http://127.0.0.1:" + std::to_string(port());
    }

    void makeUser(const std::string& name, const std::string& password, std::vector<std::string> roles = {})
    {
        db::UserUpdate u;
        u.name = name;
        u.fullName = "Full " + name;
        u.emailAddress = name + "@example.org";
        u.passwordHash = hashPassword(password);
        u.roles = std::move(roles);
        u.wipeRoles = true;
        db::upsertUser(conn(), u);
    }

    HttpReply logInAs(const std::string& name, const std::string& password)
    {
        nlohmann::json body{{"username", name}, {"password", password}};
        return request(
            "POST", "/login", body.dump(),
            {{"Content-Type", "application/json"}, {"Accept", "application/json"}, {"Origin", origin}});
    }

    Browser browser(const std::string& name, const std::string& password)
    {
        auto session = logIn(port(), name, password);
        return Browser{.cookie = session.cookie, .csrf = session.csrf, .origin = origin};
    }

    HttpReply postForm(const Browser& b, const std::string& path, const std::string& fields)
    {
        return request("POST", path, "csrf=" + b.csrf + (fields.empty() ? "" : "&" + fields),
                       b.formHeaders());
    }

    // Creates a token on the page as a browser does; returns the token the page shows once.
    std::string createTokenOnPage(const Browser& b, const std::string& user, const std::string& name)
    {
        auto r = postForm(b, "/user/" + user + "/tokens", "name=" + name);
        EXPECT_EQ(r.status, 201) << r.body;
        EXPECT_EQ(r.header("Cache-Control"), "no-store");
        std::smatch m;
        if (!std::regex_search(r.body, m, std::regex(R"(<pre class="token">([0-9a-f]{64})</pre>)"))) {
            ADD_FAILURE() << "no token on the page: " << r.body;
            return "";
        }
        return m[1];
    }

    std::string tokenCount(const std::string& user)
    {
        return exec("SELECT count(*) FROM hydra_web.ApiTokens WHERE userName = '" + user + "'");
    }
    std::string rolesOf(const std::string& user)
    {
        return exec("SELECT string_agg(role, ',' ORDER BY role) FROM UserRoles WHERE userName = '" + user +
                    "'");
    }

    std::string origin;
};

TEST_F(ServerAccountsTest, TokenMadeOnThePageAuthenticatesAScriptUntilRevoked)
{
    auto alice = browser("alice", "alice-password");
    auto page = get("/user/alice/tokens", {{"Cookie", alice.cookie}});
    ASSERT_EQ(page.status, 200) << page.body;
    EXPECT_NE(page.body.find("action=\"/user/alice/tokens\""), std::string::npos) << page.body;

    auto token = createTokenOnPage(alice, "alice", "ci");
    ASSERT_EQ(token.size(), 64u);
    // Only the hash is stored.
    EXPECT_EQ(exec("SELECT count(*) FROM hydra_web.ApiTokens WHERE tokenHash = '" + sha256Hex(token) + "'"),
              "1");
    EXPECT_EQ(exec("SELECT count(*) FROM hydra_web.ApiTokens WHERE tokenHash = '" + token + "'"), "0");

    auto me = get("/current-user", bearer(token));
    ASSERT_EQ(me.status, 200) << me.body;
    EXPECT_EQ(me.json()["username"], "alice");

    // The list shows name, creation and last use, never the token.
    auto list = request("GET", "/user/alice/tokens", "", alice.jsonHeaders());
    ASSERT_EQ(list.status, 200) << list.body;
    auto j = list.json();
    ASSERT_EQ(j.size(), 1u) << j.dump();
    EXPECT_EQ(j[0]["name"], "ci");
    EXPECT_TRUE(j[0]["created"].is_number());
    EXPECT_TRUE(j[0]["lastused"].is_number()) << j.dump();
    EXPECT_FALSE(j[0].contains("token"));
    EXPECT_EQ(list.body.find(token), std::string::npos);
    EXPECT_EQ(get("/user/alice/tokens", {{"Cookie", alice.cookie}}).body.find(token), std::string::npos);

    auto revoked = postForm(alice, "/user/alice/tokens/ci/revoke", "");
    EXPECT_EQ(revoked.status, 302) << revoked.body;
    EXPECT_EQ(tokenCount("alice"), "0");
    auto after = get("/current-user", bearer(token));
    EXPECT_EQ(after.status, 401) << after.body;
    EXPECT_EQ(after.header("WWW-Authenticate"), "Bearer");
}

TEST_F(ServerAccountsTest, TokensCreatedAsJsonAndTheirNamesChecked)
{
    auto alice = browser("alice", "alice-password");
    auto made = request("POST", "/user/alice/tokens", R"({"name": "deploy"})", alice.jsonHeaders());
    ASSERT_EQ(made.status, 201) << made.body;
    EXPECT_EQ(made.json()["name"], "deploy");
    auto token = made.json()["token"].get<std::string>();
    EXPECT_EQ(get("/current-user", bearer(token)).json()["username"], "alice");

    auto again = request("POST", "/user/alice/tokens", R"({"name": "deploy"})", alice.jsonHeaders());
    EXPECT_EQ(again.status, 409) << again.body;
    auto bad = request("POST", "/user/alice/tokens", R"({"name": "no spaces; DROP TABLE Users"})",
                       alice.jsonHeaders());
    EXPECT_EQ(bad.status, 400);
    EXPECT_NE(bad.json()["error"].get<std::string>().find("\"name\""), std::string::npos) << bad.body;
    EXPECT_EQ(request("POST", "/user/alice/tokens", "[1]", alice.jsonHeaders()).status, 400);
    EXPECT_EQ(tokenCount("alice"), "1");

    // A token cannot mint another one (a leaked token must not outlive its revocation).
    auto h = bearer(token);
    h.emplace("Content-Type", "application/json");
    auto minted = request("POST", "/user/alice/tokens", R"({"name": "more"})", h);
    EXPECT_EQ(minted.status, 403) << minted.body;
    EXPECT_EQ(tokenCount("alice"), "1");

    // DELETE revokes too.
    EXPECT_EQ(request("DELETE", "/user/alice/tokens/deploy", "", h).status, 204);
    EXPECT_EQ(get("/current-user", bearer(token)).status, 401);
    EXPECT_EQ(request("DELETE", "/user/alice/tokens/deploy", "", alice.jsonHeaders()).status, 404);
}

TEST_F(ServerAccountsTest, AnotherUsersTokensAreForbiddenButAnAdminMayRevokeThem)
{
    auto alice = browser("alice", "alice-password");
    auto token = createTokenOnPage(alice, "alice", "ci");
    auto bob = browser("bob", "bob-password");

    EXPECT_EQ(get("/user/alice/tokens", {{"Cookie", bob.cookie}}).status, 403);
    EXPECT_EQ(request("GET", "/user/alice/tokens", "", bob.jsonHeaders()).status, 403);
    EXPECT_EQ(postForm(bob, "/user/alice/tokens/ci/revoke", "").status, 403);
    EXPECT_EQ(postForm(bob, "/user/alice/tokens", "name=bobs").status, 403);
    EXPECT_EQ(request("DELETE", "/user/alice/tokens/ci", "", bob.jsonHeaders()).status, 403);
    EXPECT_EQ(tokenCount("alice"), "1");
    EXPECT_EQ(get("/current-user", bearer(token)).status, 200);

    auto root = browser("root", "root-password");
    auto list = request("GET", "/user/alice/tokens", "", root.jsonHeaders());
    ASSERT_EQ(list.status, 200);
    EXPECT_EQ(list.json()[0]["name"], "ci");
    // An admin does not make tokens in another user's name.
    EXPECT_EQ(postForm(root, "/user/alice/tokens", "name=roots").status, 403);
    EXPECT_EQ(tokenCount("alice"), "1");
    EXPECT_EQ(postForm(root, "/user/alice/tokens/ci/revoke", "").status, 302);
    EXPECT_EQ(tokenCount("alice"), "0");
    EXPECT_EQ(get("/current-user", bearer(token)).status, 401);
}

TEST_F(ServerAccountsTest, AdminCreatesAUserAndGivesRolesNonAdminIsRefused)
{
    auto root = browser("root", "root-password");
    auto created =
        postForm(root, "/register",
                 "username=carol&fullname=Carol+C&emailaddress=carol%40example.org"
                 "&password=carol-password&password2=carol-password&setroles=1&roles=restart-jobs");
    ASSERT_EQ(created.status, 302) << created.body;
    EXPECT_EQ(created.header("Location"), "/user/carol");
    EXPECT_EQ(rolesOf("carol"), "restart-jobs");
    EXPECT_EQ(exec("SELECT fullName || ' ' || emailAddress FROM Users WHERE userName = 'carol'"),
              "Carol C carol@example.org");
    EXPECT_EQ(logInAs("carol", "carol-password").status, 302);

    auto roles =
        request("PUT", "/user/carol", R"({"roles": ["cancel-build", "bump-to-front"]})", root.jsonHeaders());
    EXPECT_EQ(roles.status, 204) << roles.body;
    EXPECT_EQ(rolesOf("carol"), "bump-to-front,cancel-build");
    auto unknown = request("PUT", "/user/carol", R"({"roles": ["superuser"]})", root.jsonHeaders());
    EXPECT_EQ(unknown.status, 400);
    EXPECT_EQ(rolesOf("carol"), "bump-to-front,cancel-build");

    auto users = request("GET", "/admin/users", "", root.jsonHeaders());
    ASSERT_EQ(users.status, 200);
    bool seen = false;
    for (const auto& u : users.json())
        if (u["username"] == "carol") {
            seen = true;
            EXPECT_EQ(u["userroles"], nlohmann::json({"bump-to-front", "cancel-build"}));
            EXPECT_EQ(u["fullname"], "Carol C");
        }
    EXPECT_TRUE(seen) << users.body;
    EXPECT_EQ(
        postForm(root, "/register", "username=carol&fullname=X&password=12345678&password2=12345678").status,
        409);
    EXPECT_EQ(
        postForm(root, "/register", "username=Bad%2FName&fullname=X&password=12345678&password2=12345678")
            .status,
        400);

    // A user with a role but not admin changes nothing.
    auto bob = browser("bob", "bob-password");
    EXPECT_EQ(get("/admin/users", {{"Cookie", bob.cookie}}).status, 403);
    EXPECT_EQ(get("/register", {{"Cookie", bob.cookie}}).status, 403);
    EXPECT_EQ(
        postForm(bob, "/register", "username=dave&fullname=D&password=dave-password&password2=dave-password")
            .status,
        403);
    EXPECT_EQ(
        request("PUT", "/register", R"({"username": "dave", "fullname": "D"})", bob.jsonHeaders()).status,
        403);
    EXPECT_EQ(exec("SELECT count(*) FROM Users WHERE userName = 'dave'"), "0");
    EXPECT_EQ(request("PUT", "/user/carol", R"({"roles": ["admin"]})", bob.jsonHeaders()).status, 403);
    EXPECT_EQ(request("PUT", "/user/bob", R"({"roles": ["admin"]})", bob.jsonHeaders()).status, 403);
    EXPECT_EQ(postForm(bob, "/user/bob", "fullname=Bob&setroles=1&roles=admin").status, 403);
    EXPECT_EQ(rolesOf("bob"), "restart-jobs");
    EXPECT_EQ(rolesOf("carol"), "bump-to-front,cancel-build");
    EXPECT_EQ(request("DELETE", "/user/carol", "", bob.jsonHeaders()).status, 403);
    EXPECT_EQ(get("/user/carol", {{"Cookie", bob.cookie}}).status, 403);

    // The only admin cannot take away their own role; deleting works for admins.
    EXPECT_EQ(request("PUT", "/user/root", R"({"roles": []})", root.jsonHeaders()).status, 409);
    EXPECT_EQ(rolesOf("root"), "admin");
    EXPECT_EQ(request("DELETE", "/user/carol", "", root.jsonHeaders()).status, 204);
    EXPECT_EQ(exec("SELECT count(*) FROM Users WHERE userName = 'carol'"), "0");
    EXPECT_EQ(request("DELETE", "/user/carol", "", root.jsonHeaders()).status, 404);
}

TEST_F(ServerAccountsTest, PasswordChangeTakesEffectAndEndsOtherSessions)
{
    auto alice = browser("alice", "alice-password");
    auto elsewhere = browser("alice", "alice-password");
    auto mismatch =
        postForm(alice, "/user/alice",
                 "fullname=Alice+A&emailaddress=alice%40example.org&password=new-password&password2=other");
    EXPECT_EQ(mismatch.status, 400);
    auto tooShort =
        postForm(alice, "/user/alice",
                 "fullname=Alice+A&emailaddress=alice%40example.org&password=short&password2=short");
    EXPECT_EQ(tooShort.status, 400);
    EXPECT_EQ(logInAs("alice", "alice-password").status, 302);

    auto changed =
        postForm(alice, "/user/alice",
                 "fullname=Alice+A&emailaddress=alice%40example.net&password=new-password&password2="
                 "new-password");
    ASSERT_EQ(changed.status, 302) << changed.body;
    EXPECT_EQ(changed.header("Location"), "/user/alice");
    EXPECT_EQ(logInAs("alice", "alice-password").status, 403);
    EXPECT_EQ(logInAs("alice", "new-password").status, 302);
    auto j = request("GET", "/user/alice", "", alice.jsonHeaders()).json();
    EXPECT_EQ(j["fullname"], "Alice A");
    EXPECT_EQ(j["emailaddress"], "alice@example.net");
    // The session that changed it stays; another one of the old password ends.
    EXPECT_EQ(get("/current-user", {{"Cookie", alice.cookie}}).status, 200);
    EXPECT_EQ(get("/current-user", {{"Cookie", elsewhere.cookie}}).status, 403);

    // A token may not change the password.
    auto token = createTokenOnPage(alice, "alice", "ci");
    auto h = bearer(token);
    h.emplace("Content-Type", "application/json");
    auto byToken =
        request("PUT", "/user/alice", R"({"password": "token-password", "password2": "token-password"})", h);
    EXPECT_EQ(byToken.status, 403);
    EXPECT_EQ(logInAs("alice", "new-password").status, 302);

    // An admin may set another user's password; a user may not set another's.
    auto bob = browser("bob", "bob-password");
    EXPECT_EQ(request("PUT", "/user/alice", R"({"password": "bobs-choice", "password2": "bobs-choice"})",
                      bob.jsonHeaders())
                  .status,
              403);
    auto root = browser("root", "root-password");
    EXPECT_EQ(request("PUT", "/user/alice", R"({"password": "roots-choice", "password2": "roots-choice"})",
                      root.jsonHeaders())
                  .status,
              204);
    EXPECT_EQ(logInAs("alice", "roots-choice").status, 302);
    EXPECT_EQ(get("/current-user", {{"Cookie", alice.cookie}}).status, 403);
}

TEST_F(ServerAccountsTest, ForgedFormsAndForeignOriginsChangeNothing)
{
    auto root = browser("root", "root-password");
    auto alice = browser("alice", "alice-password");
    auto token = createTokenOnPage(alice, "alice", "ci");
    auto aliceHash = exec("SELECT password FROM Users WHERE userName = 'alice'");

    // Without the anti-forgery token.
    auto noCsrf =
        request("POST", "/register",
                "username=mallory&fullname=M&password=mallory-pw&password2=mallory-pw&setroles=1&roles=admin",
                root.formHeaders());
    EXPECT_EQ(noCsrf.status, 403) << noCsrf.body;
    auto wrongCsrf =
        request("POST", "/user/alice",
                "csrf=" + std::string(64, 'a') + "&fullname=M&password=mallory-pw&password2=mallory-pw",
                alice.formHeaders());
    EXPECT_EQ(wrongCsrf.status, 403);
    EXPECT_EQ(request("POST", "/user/alice/tokens/ci/revoke", "", alice.formHeaders()).status, 403);
    EXPECT_EQ(request("POST", "/user/alice/tokens", "name=forged", alice.formHeaders()).status, 403);

    // From another site, even with the right token in the form, and for PUT and DELETE too.
    auto foreign = [](Browser b) {
        b.origin = "http://evil.example";
        return b;
    };
    EXPECT_EQ(postForm(foreign(root), "/register",
                       "username=mallory&fullname=M&password=mallory-pw&password2=mallory-pw")
                  .status,
              403);
    EXPECT_EQ(postForm(foreign(alice), "/user/alice/tokens/ci/revoke", "").status, 403);
    EXPECT_EQ(request("PUT", "/user/alice", R"({"password": "mallory-pw", "password2": "mallory-pw"})",
                      foreign(alice).jsonHeaders())
                  .status,
              403);
    EXPECT_EQ(request("DELETE", "/user/alice", "", foreign(root).jsonHeaders()).status, 403);
    EXPECT_EQ(request("PUT", "/user/bob", R"({"roles": ["admin"]})", foreign(root).jsonHeaders()).status,
              403);

    // Anonymous.
    EXPECT_EQ(request("POST", "/user/alice/tokens", "name=anon", {{"Origin", origin}}).status, 403);
    EXPECT_EQ(get("/user/alice").status, 403);
    EXPECT_EQ(get("/admin/users").status, 403);

    EXPECT_EQ(exec("SELECT count(*) FROM Users WHERE userName = 'mallory'"), "0");
    EXPECT_EQ(exec("SELECT password FROM Users WHERE userName = 'alice'"), aliceHash);
    EXPECT_EQ(exec("SELECT count(*) FROM Users"), "3");
    EXPECT_EQ(rolesOf("bob"), "restart-jobs");
    EXPECT_EQ(exec("SELECT string_agg(name, ',') FROM hydra_web.ApiTokens"), "ci");
    EXPECT_EQ(get("/current-user", bearer(token)).status, 200);
}

TEST_F(ServerAccountsTest, OddNamesInPathsAndBodiesAreRefusedAndChangeNothing)
{
    auto root = browser("root", "root-password");
    auto alice = browser("alice", "alice-password");
    createTokenOnPage(alice, "alice", "ci");
    // Every name is a bound parameter: an SQL fragment is just a user that does not exist.
    EXPECT_EQ(request("GET", "/user/x'%3B%20DROP%20TABLE%20Users%3B--", "", root.jsonHeaders()).status, 404);
    EXPECT_EQ(request("DELETE", "/user/alice'%20OR%20'1'%3D'1", "", root.jsonHeaders()).status, 404);
    EXPECT_EQ(request("DELETE", "/user/alice/tokens/ci'%20OR%20'1'%3D'1", "", alice.jsonHeaders()).status,
              404);
    // No parameter can leave its segment.
    EXPECT_EQ(request("DELETE", "/user/alice/tokens/..", "", alice.jsonHeaders()).status, 400);
    EXPECT_EQ(request("DELETE", "/user/alice/tokens/a%2F..%2Fci", "", alice.jsonHeaders()).status, 400);
    EXPECT_EQ(postForm(alice, "/user/alice/tokens", "name=..%2Fetc").status, 400);
    auto badUser = request("PUT", "/register", R"({"username": "x'; DROP TABLE Users; --", "fullname": "X",
        "password": "long-enough", "password2": "long-enough"})",
                           root.jsonHeaders());
    EXPECT_EQ(badUser.status, 400);
    EXPECT_NE(badUser.json()["error"].get<std::string>().find("\"username\""), std::string::npos)
        << badUser.body;
    EXPECT_EQ(request("PUT", "/user/alice", "{\"fullname\": ", root.jsonHeaders()).status, 400);
    EXPECT_EQ(
        request("PUT", "/user/alice", R"({"emailaddress": "not an address"})", root.jsonHeaders()).status,
        400);
    EXPECT_EQ(exec("SELECT count(*) FROM Users"), "3");
    EXPECT_EQ(exec("SELECT emailAddress FROM Users WHERE userName = 'alice'"), "alice@example.org");
    EXPECT_EQ(tokenCount("alice"), "1");
}

TEST_F(ServerAccountsTest, UserPagesShowTheUserToThemselfAndAdmins)
{
    auto alice = browser("alice", "alice-password");
    auto j = request("GET", "/user/alice", "", alice.jsonHeaders());
    ASSERT_EQ(j.status, 200);
    EXPECT_EQ(j.json(), nlohmann::json({{"username", "alice"},
                                        {"fullname", "Full alice"},
                                        {"emailaddress", "alice@example.org"},
                                        {"userroles", nlohmann::json::array()}}));
    auto page = get("/user/alice", {{"Cookie", alice.cookie}});
    EXPECT_EQ(page.status, 200);
    EXPECT_NE(page.body.find("name=\"csrf\""), std::string::npos);
    EXPECT_EQ(page.body.find("name=\"roles\""), std::string::npos); // roles are the admins' to set
    EXPECT_EQ(get("/user/root", {{"Cookie", alice.cookie}}).status, 403);

    auto root = browser("root", "root-password");
    auto adminView = get("/user/alice", {{"Cookie", root.cookie}});
    EXPECT_EQ(adminView.status, 200);
    EXPECT_NE(adminView.body.find("name=\"roles\" value=\"restart-jobs\""), std::string::npos);
    EXPECT_EQ(request("GET", "/user/nobody", "", root.jsonHeaders()).status, 404);
    auto list = get("/admin/users", {{"Cookie", root.cookie}});
    EXPECT_EQ(list.status, 200);
    EXPECT_NE(list.body.find("href=\"/user/bob\""), std::string::npos);
}

} // namespace
} // namespace hydra::test

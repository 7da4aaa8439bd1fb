// `hydra token create|list|revoke` as an operator runs it: the real binary against a real
// database, the token it prints used by a script against the real hydra-server.

#include "db/users.hh"
#include "db/web_auth.hh"
#include "harness/server_fixture.hh"
#include "util/process.hh"
#include "util/secrets.hh"

#include <algorithm>
#include <gtest/gtest.h>
#include <regex>

namespace hydra::test {
namespace {

class CliTokenTest : public ServerFixture {
protected:
    void SetUp() override
    {
        ServerFixture::SetUp();
        db::UserUpdate u;
        u.name = "alice";
        u.emailAddress = "alice@example.org";
        u.roles = {"eval-jobset"};
        db::upsertUser(conn(), u);
    }

    RunResult hydra(std::vector<std::string> args)
    {
        args.insert(args.begin(), std::string(HYDRA_BINARY_DIR) + "/bin/hydra");
        args.insert(args.begin() + 1, "token");
        ProcessOptions o{.argv = args,
                         .setEnv = {{"HYDRA_DBI", conninfo()}, {"HYDRA_DATA", stateDir()}},
                         .unsetEnv = {"HYDRA_CONFIG", "HYDRA_DATABASE_URL"}};
        return run(o, "", std::chrono::minutes(2));
    }

    static int exitCode(const RunResult& r) { return WIFEXITED(r.status) ? WEXITSTATUS(r.status) : -1; }

    std::optional<db::AuthenticatedUser> lookUp(const std::string& token)
    {
        // Not committed: the look-up must not count as the token's use.
        pqxx::work t(conn());
        return db::findApiToken(t, sha256Hex(token), 1'000'000'000);
    }

    // One line on stderr that contains `fragment`, and a failing exit code.
    static void expectError(const RunResult& r, const std::string& fragment)
    {
        EXPECT_EQ(exitCode(r), 1) << r.err;
        EXPECT_NE(r.err.find(fragment), std::string::npos) << r.err;
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    }
};

TEST_F(CliTokenTest, CreatedTokenAuthenticatesUntilRevoked)
{
    auto made = hydra({"create", "alice", "ci"});
    ASSERT_EQ(exitCode(made), 0) << made.err;
    ASSERT_TRUE(std::regex_match(made.out, std::regex("[0-9a-f]{64}\n"))) << made.out;
    auto token = made.out.substr(0, 64);
    EXPECT_NE(made.err.find("not shown again"), std::string::npos) << made.err;
    auto user = lookUp(token);
    ASSERT_TRUE(user);
    EXPECT_EQ(user->userName, "alice");
    EXPECT_EQ(user->roles, std::vector<std::string>{"eval-jobset"});

    startServer();
    auto me = get("/current-user", {{"Authorization", "Bearer " + token}, {"Accept", "application/json"}});
    ASSERT_EQ(me.status, 200) << me.body;
    EXPECT_EQ(me.json()["username"], "alice");

    auto listed = hydra({"list", "alice", "--json"});
    ASSERT_EQ(exitCode(listed), 0) << listed.err;
    auto j = nlohmann::json::parse(listed.out);
    ASSERT_EQ(j.size(), 1u) << listed.out;
    EXPECT_EQ(j[0]["name"], "ci");
    EXPECT_TRUE(j[0]["created"].is_number());
    EXPECT_TRUE(j[0]["lastused"].is_number()) << "the server's use is recorded: " << listed.out;
    EXPECT_EQ(listed.out.find(token), std::string::npos);
    auto text = hydra({"list", "alice"});
    EXPECT_NE(text.out.find("ci"), std::string::npos) << text.out;
    EXPECT_NE(text.out.find("UTC"), std::string::npos) << text.out;

    auto revoked = hydra({"revoke", "alice", "ci"});
    ASSERT_EQ(exitCode(revoked), 0) << revoked.err;
    EXPECT_EQ(revoked.out, "revoked token 'ci' of user 'alice'\n");
    EXPECT_FALSE(lookUp(token));
    EXPECT_EQ(get("/current-user", {{"Authorization", "Bearer " + token}}).status, 401);
    EXPECT_EQ(hydra({"list", "alice"}).out, "user 'alice' has no API tokens\n");
}

TEST_F(CliTokenTest, ADatabaseHydraMadeGetsTheTokenTables)
{
    exec("DROP SCHEMA hydra_web CASCADE");
    auto made = hydra({"create", "alice", "ci"});
    ASSERT_EQ(exitCode(made), 0) << made.err;
    EXPECT_TRUE(lookUp(made.out.substr(0, 64)));
}

TEST_F(CliTokenTest, RefusalsNameTheirInputAndChangeNothing)
{
    ASSERT_EQ(exitCode(hydra({"create", "alice", "ci"})), 0);
    expectError(hydra({"create", "alice", "ci"}), "already has a token named 'ci'");
    expectError(hydra({"create", "nobody", "ci"}), "there is no user 'nobody'");
    expectError(hydra({"create", "alice", "../x"}), "the token name '../x' is invalid");
    expectError(hydra({"revoke", "alice", "other"}), "user 'alice' has no token named 'other'");
    expectError(hydra({"list", "nobody"}), "there is no user 'nobody'");
    EXPECT_EQ(exitCode(hydra({"create", "alice"})), 2);
    EXPECT_EQ(exitCode(hydra({"frobnicate", "alice", "x"})), 2);
    EXPECT_EQ(exitCode(hydra({"revoke", "alice", "ci", "--json"})), 2);
    EXPECT_EQ(exec("SELECT string_agg(name, ',') FROM hydra_web.ApiTokens"), "ci");
}

} // namespace
} // namespace hydra::test

// Every state-changing route of hydra-server, taken from the routing table itself, refuses
// what a forged or unauthorised request sends — anonymous, too weak a role, a foreign origin,
// a form without the anti-forgery token, a revoked token, hostile parameters, oversized
// bodies — with a 4xx answer and the database unchanged. A route added later is covered
// without touching this file (an unknown parameter name fails the test until it gets a value).

#include "db/web_auth.hh"
#include "harness/server_fixture.hh"
#include "harness/web_rows.hh"
#include "harness/web_session.hh"
#include "server/routes.hh"
#include "util/secrets.hh"

#include <csignal>
#include <gtest/gtest.h>
#include <httplib.h>
#include <regex>

namespace hydra::test {
namespace {

using server::Access;

class ServerActionSafetyTest : public ServerFixture {
protected:
    void SetUp() override
    {
        ServerFixture::SetUp();
        WebRows web(conn());
        int js = web.jobset("p", "j");
        BuildSpec failed;
        failed.buildStatus = 1;
        failedBuild = web.build(js, failed);
        BuildSpec queued;
        queued.finished = false;
        queuedBuild = web.build(js, queued);
        evalId = web.eval(js, {failedBuild, queuedBuild});
        exec("INSERT INTO FailedPaths (path) VALUES ('/nix/store/00000000000000000000000000000000-x')");
        createUser(conn(), "boss", "pw-boss", {"admin"});
        createUser(conn(), "weak", "pw-weak");
        createUser(conn(), "alice", "pw-alice");
        revokedToken = randomToken();
        pqxx::work w(conn());
        db::createApiToken(w, "boss", "old", sha256Hex(revokedToken), 1);
        db::revokeApiToken(w, "boss", "old");
        w.commit();
    }

    // A valid value for each parameter, so that a refusal is about who asks, not about what.
    std::string valueOf(std::string_view pattern, const std::string& param)
    {
        if (param == "id") return std::to_string(pattern.starts_with("/eval/") ? evalId : failedBuild);
        if (param == "project") return "p";
        if (param == "jobset") return "j";
        if (param == "job") return "hello";
        if (param == "user" || param == "username") return "alice";
        if (param == "name" || param == "token") return "ci";
        if (param == "step" || param == "nr" || param == "keep") return "1";
        ADD_FAILURE() << "route " << pattern << " has the parameter :" << param
                      << " that this test does not know: give it a valid value in valueOf()";
        return "x";
    }

    // The route's path with parameter `hostileParam` (if any) set to `hostile`.
    std::string pathOf(std::string_view pattern, const std::string& hostileParam = "",
                       const std::string& hostile = "")
    {
        std::string out;
        std::string p(pattern);
        std::regex segment(R"(/([:*]?)([^/]*))");
        for (std::sregex_iterator it(p.begin(), p.end(), segment), end; it != end; ++it) {
            std::string kind = (*it)[1], name = (*it)[2];
            if (kind.empty())
                out += "/" + name;
            else if (kind == "*")
                continue; // the rest may be empty
            else
                out += "/" + (name == hostileParam ? hostile : valueOf(pattern, name));
        }
        if (out == "/api/push") out += "?jobsets=p:j&force=1"; // something to trigger
        return out.empty() ? "/" : out;
    }

    // Every table of Hydra's and of the server's, row by row.
    std::string fingerprint()
    {
        pqxx::work w(conn());
        std::string all;
        for (auto row : w.exec("SELECT schemaname || '.' || tablename FROM pg_tables "
                               "WHERE schemaname IN ('public', 'hydra_web') ORDER BY 1"))
            all += row[0].as<std::string>() + ":" +
                   w.exec1("SELECT coalesce(md5(string_agg(t::text, ',' ORDER BY t::text)), '') FROM " +
                           row[0].as<std::string>() + " t")[0]
                       .as<std::string>() +
                   "\n";
        return all;
    }

    std::vector<const server::Route*> actions()
    {
        std::vector<const server::Route*> out;
        for (auto& r : server::routeTable())
            if (r.access == Access::Action) out.push_back(&r);
        EXPECT_FALSE(out.empty());
        return out;
    }

    // Sends every Action route with `headers` and `body`; each must answer `status` (or, when
    // status is 0, any 4xx) and change nothing.
    void expectAllRefused(const std::multimap<std::string, std::string>& headers, const std::string& body,
                          int status, const std::string& who)
    {
        auto before = fingerprint();
        for (auto* r : actions()) {
            auto path = pathOf(r->pattern);
            auto reply = request(std::string(r->method), path, body, headers);
            if (status)
                EXPECT_EQ(reply.status, status)
                    << who << ": " << r->method << " " << path << ": " << reply.body;
            else
                EXPECT_TRUE(reply.status >= 400 && reply.status < 500)
                    << who << ": " << r->method << " " << path << " answered " << reply.status << ": "
                    << reply.body;
        }
        EXPECT_EQ(fingerprint(), before) << who << " changed the database";
    }

    std::string origin() const { return "http://127.0.0.1:" + std::to_string(port()); }
    int64_t failedBuild = 0, queuedBuild = 0, evalId = 0;
    std::string revokedToken;
};

TEST_F(ServerActionSafetyTest, AnonymousRequestsAreRefused)
{
    startServer();
    expectAllRefused({{"Origin", origin()}, {"Content-Type", "application/json"}}, "{}", 403, "anonymous");
}

TEST_F(ServerActionSafetyTest, AUserWithoutTheRoleIsRefused)
{
    startServer();
    auto weak = logIn(port(), "weak", "pw-weak");
    auto json = weak.headers();
    json.emplace("Content-Type", "application/json");
    expectAllRefused(json, "{}", 403, "a user without roles");
    expectAllRefused(weak.formHeaders(), weak.form(), 403, "a user without roles, by form");
}

TEST_F(ServerActionSafetyTest, AnAdminsCookieFromAnotherSiteIsRefused)
{
    startServer();
    auto boss = logIn(port(), "boss", "pw-boss");
    expectAllRefused({{"Cookie", boss.cookie}, {"Origin", "https://evil.example"}}, "", 403,
                     "foreign Origin");
    expectAllRefused({{"Cookie", boss.cookie}, {"Referer", "https://evil.example/"}}, "", 403,
                     "foreign Referer");
    expectAllRefused({{"Cookie", boss.cookie}}, "", 403, "no Origin or Referer");
    expectAllRefused({{"Cookie", boss.cookie}, {"Origin", "null"}}, "", 403, "Origin null");
}

TEST_F(ServerActionSafetyTest, AnAdminsFormWithoutTheAntiForgeryTokenIsRefused)
{
    startServer();
    auto boss = logIn(port(), "boss", "pw-boss");
    expectAllRefused(boss.formHeaders(), "x=1", 403, "form without csrf");
    expectAllRefused(boss.formHeaders(), "csrf=" + std::string(64, '0'), 403, "form with a wrong csrf");
    auto multipart = boss.headers();
    multipart.emplace("Content-Type", "multipart/form-data; boundary=x");
    expectAllRefused(multipart, "--x--", 0, "multipart form");
    auto text = boss.headers();
    text.emplace("Content-Type", "text/plain");
    expectAllRefused(text, "csrf=" + boss.csrf, 415, "text/plain form");
}

TEST_F(ServerActionSafetyTest, ARevokedTokenIsRefused)
{
    startServer();
    expectAllRefused({{"Authorization", "Bearer " + revokedToken}}, "", 401, "revoked token");
}

TEST_F(ServerActionSafetyTest, HostileParametersAndBodiesChangeNothing)
{
    std::signal(SIGPIPE, SIG_IGN); // the server may close while an oversized body is still sent
    startServer();
    auto boss = logIn(port(), "boss", "pw-boss");
    auto json = boss.headers();
    json.emplace("Content-Type", "application/json");
    auto before = fingerprint();
    const std::vector<std::string> hostile{
        "1;DROP%20TABLE%20Builds", "'%20OR%20'1'='1", "%2e%2e", "..",
        "%2e%2e%2f%2e%2e%2fetc",   "a%00b",           "-1",     "99999999999999999999"};
    for (auto* r : actions()) {
        std::regex param(R"(/:([^/]+))");
        std::string p(r->pattern);
        for (std::sregex_iterator it(p.begin(), p.end(), param), end; it != end; ++it)
            for (auto& h : hostile) {
                auto path = pathOf(r->pattern, (*it)[1], h);
                auto reply = request(std::string(r->method), path, "{}", json);
                EXPECT_TRUE(reply.status >= 400 && reply.status < 500)
                    << r->method << " " << path << " answered " << reply.status << ": " << reply.body;
            }
        // Refused from its Content-Length: a 413, or the connection closed while still sending.
        httplib::Client client("127.0.0.1", port());
        httplib::Request big;
        big.method = std::string(r->method);
        big.path = pathOf(r->pattern);
        big.headers = httplib::Headers(json.begin(), json.end());
        big.body = std::string(2 << 20, 'x');
        auto res = client.send(big);
        EXPECT_TRUE(!res || res->status == 413) << r->method << " " << r->pattern << ": " << res->status;
    }
    EXPECT_EQ(fingerprint(), before) << "hostile parameters or an oversized body changed the database";
    EXPECT_EQ(get("/").status, 200) << "the server still answers";
}

} // namespace
} // namespace hydra::test

// Forge webhooks over real HTTP: POST /api/push-github and /api/push-gitea signed with a real
// HMAC-SHA256 of the body, checked against hydra.conf's <webhooks> secrets; a right signature
// triggers the jobsets whose inputs or flake name the repository, a wrong or missing one is
// refused with 401 {error} and triggers nothing.

#include "harness/channel_recorder.hh"
#include "harness/server_fixture.hh"
#include "harness/web_rows.hh"
#include "util/process.hh"
#include "util/secrets.hh"

#include <csignal>
#include <gtest/gtest.h>
#include <httplib.h>

namespace hydra::test {
namespace {

const std::string githubPush =
    R"({"ref":"refs/heads/main","repository":{"name":"nixpkgs","full_name":"NixOS/nixpkgs",)"
    R"("owner":{"name":"NixOS","login":"NixOS"}}})";
const std::string giteaPush =
    R"({"ref":"refs/heads/main","repository":{"name":"tools","clone_url":"https://git.example.org/alice/tools.git"}})";

class ServerWebhookTest : public ServerFixture {
protected:
    void SetUp() override
    {
        ServerFixture::SetUp();
        web = std::make_unique<WebRows>(conn());
        web->jobset("p", "by-input");
        web->jobset("p", "by-flake");
        web->jobset("p", "gitea");
        web->jobset("p", "other");
        web->jobset("p", "off");
        setInput("by-input", "https://github.com/NixOS/nixpkgs.git");
        exec("UPDATE Jobsets SET type = 1, flake = 'github:NixOS/nixpkgs/nixos-unstable', nixExprInput = "
             "NULL, "
             "nixExprPath = NULL WHERE name = 'by-flake'");
        setInput("gitea", "https://git.example.org/alice/tools.git");
        setInput("other", "https://github.com/NixOS/nix.git");
        setInput("off", "https://github.com/NixOS/nixpkgs.git");
        exec("UPDATE Jobsets SET enabled = 0 WHERE name = 'off'");
    }

    void setInput(const std::string& jobset, const std::string& value)
    {
        exec("UPDATE JobsetInputAlts SET value = '" + value + "' WHERE jobset = '" + jobset + "'");
    }

    std::string triggered()
    {
        return exec(
            "SELECT coalesce(string_agg(name, ',' ORDER BY name), '') FROM Jobsets WHERE triggerTime IS "
            "NOT NULL");
    }

    HttpReply github(const std::string& body, const std::string& signature)
    {
        std::multimap<std::string, std::string> h{{"Content-Type", "application/json"},
                                                  {"X-GitHub-Event", "push"}};
        if (!signature.empty()) h.emplace("X-Hub-Signature-256", signature);
        return request("POST", "/api/push-github", body, h);
    }

    HttpReply gitea(const std::string& body, const std::string& signature)
    {
        std::multimap<std::string, std::string> h{{"Content-Type", "application/json"}};
        if (!signature.empty()) h.emplace("X-Gitea-Signature", signature);
        return request("POST", "/api/push-gitea", body, h);
    }

    std::unique_ptr<WebRows> web;
};

TEST_F(ServerWebhookTest, GithubPushSignedWithAConfiguredSecretTriggersTheRepositorysJobsets)
{
    addConfig("<webhooks>\n  <github>\n    secret = first-secret\n    secret = rotated-secret\n  </github>\n"
              "  <gitea>\n    secret = gitea-secret\n  </gitea>\n</webhooks>");
    startServer();
    ChannelRecorder recorder(conninfo(), {"jobset_scheduling_changed"});

    auto missing = github(githubPush, "");
    EXPECT_EQ(missing.status, 401);
    EXPECT_EQ(missing.json()["error"], "Missing webhook signature");
    auto wrong = github(githubPush, "sha256=" + hmacSha256Hex("not-the-secret", githubPush));
    EXPECT_EQ(wrong.status, 401);
    EXPECT_EQ(wrong.json()["error"], "Invalid webhook signature");
    auto otherBody = github(githubPush, "sha256=" + hmacSha256Hex("first-secret", githubPush + " "));
    EXPECT_EQ(otherBody.status, 401) << "the signature covers the exact body";
    auto noPrefix = github(githubPush, hmacSha256Hex("first-secret", githubPush));
    EXPECT_EQ(noPrefix.status, 401) << "GitHub's signature starts with sha256=";
    EXPECT_EQ(triggered(), "");

    // Any configured secret signs (secrets are rotated by listing both).
    auto ok = github(githubPush, "sha256=" + hmacSha256Hex("rotated-secret", githubPush));
    ASSERT_EQ(ok.status, 200) << ok.body;
    auto names = ok.json()["jobsetsTriggered"];
    EXPECT_EQ(names.size(), 2u) << names.dump();
    EXPECT_EQ(triggered(), "by-flake,by-input");
    EXPECT_EQ(exec("SELECT count(*) FROM Jobsets WHERE forceEval"), "0") << "a push does not force";
    EXPECT_FALSE(recorder.drain().empty());
}

TEST_F(ServerWebhookTest, GiteaPushIsSignedWithoutPrefixAndMatchedByCloneUrl)
{
    addConfig("<webhooks>\n  <gitea>\n    secret = gitea-secret\n  </gitea>\n</webhooks>");
    startServer();
    EXPECT_EQ(gitea(giteaPush, hmacSha256Hex("wrong", giteaPush)).status, 401);
    EXPECT_EQ(gitea(giteaPush, "").status, 401);
    EXPECT_EQ(triggered(), "");
    auto ok = gitea(giteaPush, hmacSha256Hex("gitea-secret", giteaPush));
    ASSERT_EQ(ok.status, 200) << ok.body;
    EXPECT_EQ(ok.json()["jobsetsTriggered"], nlohmann::json::array({"p:gitea"}));
    EXPECT_EQ(triggered(), "gitea");
    // GitHub has no secret here: its pushes are refused whatever they carry.
    auto unsigned_ = github(githubPush, "sha256=" + hmacSha256Hex("", githubPush));
    EXPECT_EQ(unsigned_.status, 401);
    EXPECT_EQ(triggered(), "gitea");
}

TEST_F(ServerWebhookTest, APushEventOfSeveralMebibytesIsAcceptedWhereOtherPagesStopAtOne)
{
    // A client still sending when the server refuses must not be killed by SIGPIPE.
    std::signal(SIGPIPE, SIG_IGN);
    addConfig("<webhooks>\n  <github>\n    secret = s\n  </github>\n</webhooks>");
    startServer();
    // A push of many commits: GitHub sends events of up to 25 MiB.
    auto big =
        githubPush.substr(0, githubPush.size() - 1) + R"(,"commits":")" + std::string(3 << 20, 'x') + "\"}";
    auto ok = github(big, "sha256=" + hmacSha256Hex("s", big));
    EXPECT_EQ(ok.status, 200) << ok.body.substr(0, 300);
    EXPECT_EQ(triggered(), "by-flake,by-input");
    // Over a path's limit the server answers 413 before reading the body, and may close the
    // connection while the client still sends: either is a refusal.
    auto refused = [&](const std::string& path, const std::string& body) {
        httplib::Client client("127.0.0.1", port());
        auto res = client.Post(path.c_str(), {{"X-Hub-Signature-256", "sha256=" + hmacSha256Hex("s", body)}},
                               body, "application/json");
        return !res || res->status == 413;
    };
    EXPECT_TRUE(refused("/api/push?jobsets=p:other", big));
    EXPECT_TRUE(refused("/api/push-github", std::string(26 << 20, 'x')));
    EXPECT_EQ(exec("SELECT count(*) FROM Jobsets WHERE name = 'other' AND triggerTime IS NOT NULL"), "0");
}

TEST_F(ServerWebhookTest, ASignedBodyThatIsNotAPushIsABadRequest)
{
    addConfig("<webhooks>\n  <github>\n    secret = s\n  </github>\n</webhooks>");
    startServer();
    std::string notJson = "repository=nixpkgs";
    auto r = github(notJson, "sha256=" + hmacSha256Hex("s", notJson));
    EXPECT_EQ(r.status, 400);
    EXPECT_TRUE(r.json().contains("error"));
    std::string noRepo = R"({"ref":"refs/heads/main"})";
    auto r2 = github(noRepo, "sha256=" + hmacSha256Hex("s", noRepo));
    EXPECT_EQ(r2.status, 400);
    EXPECT_NE(r2.json()["error"].get<std::string>().find("repository"), std::string::npos);
    EXPECT_EQ(triggered(), "");
}

TEST_F(ServerWebhookTest, AMalformedWebhooksBlockStopsTheServerWithTheKeyNamed)
{
    addConfig("<webhooks>\n  <github>\n    secrets = s\n  </github>\n</webhooks>");
    auto r = hydra::run(ProcessOptions{.argv = {serverBinary(), "--port", "0"}, .setEnv = serverEnv()}, "",
                        std::chrono::seconds(30));
    EXPECT_NE(r.status, 0);
    EXPECT_NE(r.err.find("unknown key 'secrets' in <webhooks><github>"), std::string::npos) << r.err;
}

} // namespace
} // namespace hydra::test

// The <webhooks> block of hydra.conf as Hydra spells it, and the errors that name what is wrong.

#include "server/webhook_secrets.hh"
#include "util/error.hh"

#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <unistd.h>

using namespace hydra;
using namespace hydra::server;

namespace {

WebhookSecrets parse(const std::string& text)
{
    return webhookSecretsFrom(parseConfigText(text, "hydra.conf"));
}

std::string errorOf(const std::string& text)
{
    try {
        parse(text);
    } catch (const Error& e) {
        return e.what();
    }
    return "(no error)";
}

} // namespace

TEST(WebhookSecrets, NoBlockMeansNoSecrets)
{
    auto s = parse("base_uri = https://hydra.example.org\n");
    EXPECT_TRUE(s.github.empty());
    EXPECT_TRUE(s.gitea.empty());
}

TEST(WebhookSecrets, EachForgeTakesSeveralTrimmedSecrets)
{
    auto s = parse("<webhooks>\n  <github>\n    secret = prod  \n    secret = staging\n  </github>\n"
                   "  <gitea>\n    secret = \"quoted one\"\n  </gitea>\n</webhooks>\n");
    EXPECT_EQ(s.github, (std::vector<std::string>{"prod", "staging"}));
    EXPECT_EQ(s.gitea, (std::vector<std::string>{"quoted one"}));
}

TEST(WebhookSecrets, SecretsMayComeFromAnIncludedFile)
{
    auto dir =
        std::filesystem::temp_directory_path() / ("hydra-webhook-secrets-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "webhook-secrets.conf") << "<github>\n  secret = from-the-file\n</github>\n";
    std::ofstream(dir / "hydra.conf") << "<webhooks>\n  Include webhook-secrets.conf\n</webhooks>\n";
    auto s = webhookSecretsFrom(parseConfigFile((dir / "hydra.conf").string()));
    std::filesystem::remove_all(dir);
    EXPECT_EQ(s.github, std::vector<std::string>{"from-the-file"});
}

TEST(WebhookSecrets, AnythingElseInTheBlockIsAnErrorNamingIt)
{
    EXPECT_EQ(errorOf("<webhooks>\n  <github>\n    secrets = x\n  </github>\n</webhooks>\n"),
              "hydra.conf:3: unknown key 'secrets' in <webhooks><github> (expected 'secret')");
    EXPECT_EQ(errorOf("<webhooks>\n  <gitlab>\n    secret = x\n  </gitlab>\n</webhooks>\n"),
              "hydra.conf:2: unknown block <gitlab> in <webhooks> (expected <github> or <gitea>)");
    EXPECT_EQ(errorOf("<webhooks>\n  secret = x\n</webhooks>\n"),
              "hydra.conf:2: unknown key 'secret' in <webhooks> (expected <github> or <gitea> blocks)");
    EXPECT_EQ(errorOf("<webhooks>\n  <gitea>\n    secret = \"  \"\n  </gitea>\n</webhooks>\n"),
              "hydra.conf:3: secret in <webhooks><gitea> is empty");
}

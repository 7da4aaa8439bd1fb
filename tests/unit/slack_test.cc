// Slack: which builds are reported to which webhook, and the message Hydra sends.

#include "notify/slack.hh"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace hydra;
using namespace hydra::notify;

namespace {

db::BuildDescription build(db::BuildId id, const std::string& job, int status)
{
    db::BuildDescription b;
    b.id = id;
    b.project = "p";
    b.jobset = "js";
    b.job = job;
    b.finished = true;
    b.buildStatus = status;
    return b;
}

SlackBlock block(const std::string& jobs, const std::string& url, bool force = false)
{
    SlackConfig conf;
    conf.jobs = jobs;
    conf.url = url;
    conf.force = force;
    return {conf, JobPattern(jobs, {})};
}

} // namespace

TEST(Slack, MessageOfAFailedBuild)
{
    auto msg = nlohmann::json::parse(slackMessage(build(12, "hello", 1), 0, "https://hydra.test"));
    ASSERT_EQ(msg["attachments"].size(), 1u);
    auto& a = msg["attachments"][0];
    EXPECT_EQ(a["color"], "danger");
    EXPECT_EQ(a["text"],
              "Job <https://hydra.test/job/p/js/hello|p:js:hello>: <https://hydra.test/build/12|Failed>");
    EXPECT_EQ(a["title"], "Job p:js:hello build number 12");
    EXPECT_EQ(a["title_link"], "https://hydra.test/build/12");
    EXPECT_EQ(a["fallback"], "Job p:js:hello build number 12: Failed");
    EXPECT_EQ(a["thumb_url"], "http://hydra.nixos.org/static/images/error_16.png");
}

TEST(Slack, ColorsAndOthers)
{
    auto ok = nlohmann::json::parse(slackMessage(build(1, "a", 0), 2, "h"));
    EXPECT_EQ(ok["attachments"][0]["color"], "good");
    EXPECT_EQ(ok["attachments"][0]["text"], "Job <h/job/p/js/a|p:js:a> (and 2 others): <h/build/1|Success>");
    auto cancelled = nlohmann::json::parse(slackMessage(build(1, "a", 4), 0, "h"));
    EXPECT_EQ(cancelled["attachments"][0]["color"], "warning");
}

TEST(Slack, OnlyChangedStatusesUnlessForced)
{
    std::vector<SlackBlock> blocks{block("p:js:.*", "http://hook/a")};
    EXPECT_EQ(slackRequests(blocks, {{build(2, "a", 1), 1}}, "h").size(), 0u);
    EXPECT_EQ(slackRequests(blocks, {{build(2, "a", 1), 0}}, "h").size(), 1u);
    EXPECT_EQ(slackRequests(blocks, {{build(2, "a", 1), std::nullopt}}, "h").size(), 1u);
    EXPECT_EQ(slackRequests(blocks, {{build(2, "a", 4), 0}}, "h").size(), 0u);
    std::vector<SlackBlock> forced{block("p:js:.*", "http://hook/a", true)};
    EXPECT_EQ(slackRequests(forced, {{build(2, "a", 1), 1}}, "h").size(), 1u);
    EXPECT_EQ(slackRequests(forced, {{build(2, "a", 4), 0}}, "h").size(), 1u);
}

TEST(Slack, OneMessagePerWebhookAboutTheTopBuild)
{
    std::vector<SlackBlock> blocks{block("p:js:.*", "http://hook/a"), block("p:js:dep.*", "http://hook/b"),
                                   block("p:js:dep1", "http://hook/a")};
    std::vector<SlackBuild> builds{
        {build(10, "top", 1), 0}, {build(11, "dep1", 2), 0}, {build(12, "dep2", 2), 0}};
    auto reqs = slackRequests(blocks, builds, "h");
    ASSERT_EQ(reqs.size(), 2u);
    EXPECT_EQ(reqs[0].url, "http://hook/a");
    EXPECT_EQ(reqs[1].url, "http://hook/b");
    EXPECT_EQ(reqs[0].contentType, "application/json");
    auto a = nlohmann::json::parse(reqs[0].body)["attachments"][0];
    EXPECT_EQ(a["title"], "Job p:js:top build number 10");
    EXPECT_EQ(a["text"], "Job <h/job/p/js/top|p:js:top> (and 3 others): <h/build/10|Failed>");
    auto b = nlohmann::json::parse(reqs[1].body)["attachments"][0];
    EXPECT_EQ(b["text"], "Job <h/job/p/js/top|p:js:top> (and 2 others): <h/build/10|Failed>");
}

TEST(Slack, NothingForJobsThatDoNotMatch)
{
    std::vector<SlackBlock> blocks{block("p:js:hello", "http://hook/a")};
    EXPECT_TRUE(slackRequests(blocks, {{build(2, "hello-world", 1), std::nullopt}}, "h").empty());
}

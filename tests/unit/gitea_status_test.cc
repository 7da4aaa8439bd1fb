// Gitea commit statuses: states, hosts of git URLs and the exact requests.

#include "notify/gitea_status.hh"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace hydra;
using namespace hydra::notify;

namespace {

db::BuildDescription build(db::BuildId id, bool finished, std::optional<int> status)
{
    db::BuildDescription b;
    b.id = id;
    b.project = "p";
    b.jobset = "js";
    b.job = "hello";
    b.finished = finished;
    b.buildStatus = status;
    return b;
}

db::BuildEvaluation giteaEval(std::optional<std::string> httpUrl)
{
    db::BuildEvaluation e{1, std::nullopt, {}};
    e.inputs.push_back({"gitea_repo_name", "string", std::nullopt, std::nullopt, "repo"});
    e.inputs.push_back({"gitea_repo_owner", "string", std::nullopt, std::nullopt, "owner"});
    e.inputs.push_back({"gitea_status_repo", "string", std::nullopt, std::nullopt, "src"});
    if (httpUrl) e.inputs.push_back({"gitea_http_url", "string", std::nullopt, std::nullopt, *httpUrl});
    e.inputs.push_back({"src", "git", "https://git.example.org/owner/repo.git", "deadbeef", std::nullopt});
    return e;
}

} // namespace

TEST(GiteaStatus, States)
{
    EXPECT_EQ(giteaState(GiteaPhase::Queued, 0), "pending");
    EXPECT_EQ(giteaState(GiteaPhase::Started, 0), "pending");
    EXPECT_EQ(giteaState(GiteaPhase::Finished, 0), "success");
    EXPECT_EQ(giteaState(GiteaPhase::Finished, 1), "failure");
    EXPECT_EQ(giteaState(GiteaPhase::Finished, 4), "error");
}

TEST(GiteaStatus, HostOfGitUrl)
{
    EXPECT_EQ(hostOfGitUrl("https://git.example.org/owner/repo.git"), "git.example.org");
    EXPECT_EQ(hostOfGitUrl("https://git.example.org:3000/owner/repo.git"), "git.example.org");
    EXPECT_EQ(hostOfGitUrl("ssh://git@git.example.org/owner/repo"), "git.example.org");
    EXPECT_EQ(hostOfGitUrl("git@git.example.org:owner/repo"), "git.example.org");
}

TEST(GiteaStatus, RequestWithHttpUrlInput)
{
    GiteaStatusSettings s{"http://hydra.test", {{"owner", "tok"}}};
    auto reqs =
        giteaStatusRequests(s, {build(9, true, 0)}, {giteaEval("http://127.0.0.1:1/")}, GiteaPhase::Finished);
    ASSERT_EQ(reqs.size(), 1u);
    EXPECT_EQ(reqs[0].url, "http://127.0.0.1:1/api/v1/repos/owner/repo/statuses/deadbeef");
    ASSERT_EQ(reqs[0].headers.size(), 1u);
    EXPECT_EQ(reqs[0].headers[0], (std::pair<std::string, std::string>{"Authorization", "token tok"}));
    auto body = nlohmann::json::parse(reqs[0].body);
    EXPECT_EQ(body["state"], "success");
    EXPECT_EQ(body["target_url"], "http://hydra.test/build/9");
    EXPECT_EQ(body["description"], "Hydra build #9 of p:js:hello");
    EXPECT_EQ(body["context"], "Hydra hello");
}

TEST(GiteaStatus, HostFromInputUrlWithoutHttpUrlInput)
{
    GiteaStatusSettings s{"http://hydra.test", {{"owner", "tok"}}};
    auto reqs = giteaStatusRequests(s, {build(9, false, std::nullopt)}, {giteaEval(std::nullopt)},
                                    GiteaPhase::Queued);
    ASSERT_EQ(reqs.size(), 1u);
    EXPECT_EQ(reqs[0].url, "https://git.example.org/api/v1/repos/owner/repo/statuses/deadbeef");
    EXPECT_EQ(nlohmann::json::parse(reqs[0].body)["state"], "pending");
}

TEST(GiteaStatus, NothingWithoutGiteaInputsOrForFinishedBuildsWhenPending)
{
    GiteaStatusSettings s{"http://hydra.test", {{"owner", "tok"}}};
    db::BuildEvaluation plain{1, std::nullopt, {{"src", "git", "https://x/o/r", "r", std::nullopt}}};
    EXPECT_TRUE(giteaStatusRequests(s, {build(9, true, 0)}, {plain}, GiteaPhase::Finished).empty());
    EXPECT_TRUE(
        giteaStatusRequests(s, {build(9, true, 0)}, {giteaEval(std::nullopt)}, GiteaPhase::Started).empty());
}

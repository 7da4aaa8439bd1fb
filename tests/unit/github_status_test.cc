// GitHub commit statuses: repository and flake parsing, states, contexts and the exact requests.

#include "notify/github_status.hh"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace hydra;
using namespace hydra::notify;

namespace {

db::BuildDescription build(db::BuildId id, const std::string& job, bool finished, std::optional<int> status)
{
    db::BuildDescription b;
    b.id = id;
    b.project = "p";
    b.jobset = "js";
    b.job = job;
    b.finished = finished;
    b.buildStatus = status;
    return b;
}

GithubStatusSettings settings(const std::string& jobs, std::vector<std::string> inputs)
{
    GithubStatusConfig conf;
    conf.jobs = jobs;
    conf.inputs = std::move(inputs);
    GithubStatusSettings s;
    s.blocks.push_back({conf, JobPattern(jobs, {})});
    s.endpoint = "http://gh.test";
    s.baseUrl = "https://hydra.test";
    return s;
}

db::BuildEvaluation eval(int64_t id, const std::string& uri, const std::string& rev)
{
    return {id, std::nullopt, {{"src", "git", uri, rev, std::nullopt}}};
}

std::string header(const HttpPostRequest& r, const std::string& name)
{
    for (auto& [k, v] : r.headers)
        if (k == name) return v;
    return "<none>";
}

} // namespace

TEST(GithubStatus, RepoFromHttpsAndScpUrls)
{
    EXPECT_EQ(githubRepoFromUrl("https://github.com/NixOS/hydra.git"), (GithubRepo{"NixOS", "hydra"}));
    EXPECT_EQ(githubRepoFromUrl("https://github.com/NixOS/hydra"), (GithubRepo{"NixOS", "hydra"}));
    EXPECT_EQ(githubRepoFromUrl("git@github.com:owner/repo.git"), (GithubRepo{"owner", "repo"}));
    EXPECT_EQ(githubRepoFromUrl("ssh://git@github.com/owner/my.repo"), (GithubRepo{"owner", "my.repo"}));
    EXPECT_EQ(githubRepoFromUrl("no-slashes-here"), std::nullopt);
}

TEST(GithubStatus, CommitFromLockedFlakes)
{
    std::string rev(40, 'a');
    EXPECT_EQ(githubCommitFromFlake("github:owner/repo/" + rev), (GithubCommit{{"owner", "repo"}, rev}));
    EXPECT_EQ(githubCommitFromFlake("git+ssh://git@github.com/owner/repo?ref=main&rev=" + rev),
              (GithubCommit{{"owner", "repo"}, rev}));
    EXPECT_EQ(githubCommitFromFlake("github:owner/repo"), std::nullopt);
    EXPECT_EQ(githubCommitFromFlake("gitlab:owner/repo/" + rev), std::nullopt);
}

TEST(GithubStatus, StatesFollowHydra)
{
    EXPECT_EQ(githubState(0), "success");
    EXPECT_EQ(githubState(1), "failure");
    EXPECT_EQ(githubState(2), "failure");
    for (int s : {3, 4, 8, 10, 11}) EXPECT_EQ(githubState(s), "error") << s;
}

TEST(GithubStatus, Contexts)
{
    GithubStatusConfig conf;
    EXPECT_EQ(githubContext(conf, "p:js-pr-12:j", 7), "continuous-integration/hydra:p:js-pr-12:j:7");
    conf.useShortContext = true;
    EXPECT_EQ(githubContext(conf, "p:js-pr-12:j", 7), "ci/hydra:p:js:j:7");
    conf.excludeBuildFromContext = true;
    EXPECT_EQ(githubContext(conf, "p:js:j", 7), "ci/hydra:p:js:j");
    conf.context = "mine";
    EXPECT_EQ(githubContext(conf, "p:js:j", 7), "mine");
}

TEST(GithubStatus, FinishedBuildRequest)
{
    auto s = settings("p:js:.*", {"src"});
    s.authorization["owner"] = "token secret";
    auto reqs = githubStatusRequests(s, {build(5, "hello", true, 1)},
                                     {eval(1, "https://github.com/owner/repo.git", "abc123")}, true);
    ASSERT_EQ(reqs.size(), 1u);
    EXPECT_EQ(reqs[0].url, "http://gh.test/repos/owner/repo/statuses/abc123");
    EXPECT_EQ(header(reqs[0], "Authorization"), "token secret");
    EXPECT_EQ(header(reqs[0], "Accept"), "application/vnd.github.v3+json");
    EXPECT_EQ(reqs[0].contentType, "application/json");
    auto body = nlohmann::json::parse(reqs[0].body);
    EXPECT_EQ(body["state"], "failure");
    EXPECT_EQ(body["target_url"], "https://hydra.test/build/5");
    EXPECT_EQ(body["description"], "Hydra build #5 of p:js:hello");
    EXPECT_EQ(body["context"], "continuous-integration/hydra:p:js:hello:5");
}

TEST(GithubStatus, BlockAuthorizationWhenOwnerHasNone)
{
    auto s = settings(".*", {"src"});
    s.blocks[0].conf.authorization = "Bearer block";
    auto reqs = githubStatusRequests(s, {build(5, "hello", false, std::nullopt)},
                                     {eval(1, "git@github.com:other/repo", "r1")}, false);
    ASSERT_EQ(reqs.size(), 1u);
    EXPECT_EQ(header(reqs[0], "Authorization"), "Bearer block");
    EXPECT_EQ(nlohmann::json::parse(reqs[0].body)["state"], "pending");
}

TEST(GithubStatus, NothingForOtherJobsOrFinishedBuildsOnPendingEvents)
{
    auto s = settings("p:js:hello", {"src"});
    std::vector<db::BuildEvaluation> evals{eval(1, "https://github.com/o/r", "r1")};
    EXPECT_TRUE(githubStatusRequests(s, {build(5, "hello2", true, 0)}, evals, true).empty());
    EXPECT_TRUE(githubStatusRequests(s, {build(5, "hello", true, 0)}, evals, false).empty());
}

TEST(GithubStatus, SameCommitInTwoEvaluationsIsSentOnce)
{
    auto s = settings(".*", {"src"});
    auto reqs = githubStatusRequests(s, {build(5, "hello", true, 0)},
                                     {eval(1, "https://github.com/o/r", "r1"),
                                      eval(2, "https://github.com/o/r", "r1"),
                                      eval(3, "https://github.com/o/r", "r2")},
                                     true);
    ASSERT_EQ(reqs.size(), 2u);
    EXPECT_EQ(reqs[1].url, "http://gh.test/repos/o/r/statuses/r2");
}

TEST(GithubStatus, FlakeEvaluationUsesTheFlakesCommit)
{
    auto s = settings(".*", {});
    std::string rev(40, 'b');
    db::BuildEvaluation e{1, "github:o/r/" + rev, {}};
    auto reqs = githubStatusRequests(s, {build(5, "hello", true, 0)}, {e}, true);
    ASSERT_EQ(reqs.size(), 1u);
    EXPECT_EQ(reqs[0].url, "http://gh.test/repos/o/r/statuses/" + rev);
}

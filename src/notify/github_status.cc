#include "notify/github_status.hh"

#include "db/eval_writer.hh"
#include "db/queue_notify.hh"
#include "util/logging.hh"

#include <nlohmann/json.hpp>
#include <regex>
#include <set>

namespace hydra::notify {

namespace {

// Whether a statuses request for this input and commit was already made for this build.
using SeenCommits = std::set<std::tuple<std::string, std::string, std::string, std::string>>;

std::string statusBody(const GithubStatusConfig& conf, const db::BuildDescription& build, bool finished,
                       const std::string& baseUrl)
{
    auto name = jobName(build);
    nlohmann::json body{
        {"state", finished ? githubState(build.buildStatus.value_or(1)) : "pending"},
        {"target_url", fmt::format("{}/build/{}", baseUrl, build.id)},
        {"description", conf.description.value_or(fmt::format("Hydra build #{} of {}", build.id, name))},
        {"context", githubContext(conf, name, build.id)},
    };
    return body.dump();
}

// The commits of one evaluation that a block reports on, with the input they came from.
std::vector<std::pair<std::string, GithubCommit>> evalCommits(const GithubStatusConfig& conf,
                                                              const db::BuildEvaluation& eval)
{
    std::vector<std::pair<std::string, GithubCommit>> commits;
    if (eval.flake) {
        if (auto c = githubCommitFromFlake(*eval.flake))
            commits.emplace_back("src", *c);
        else
            log::warn("GitHubStatus: cannot find a GitHub commit in flake '{}' of evaluation {}; skipped",
                      *eval.flake, eval.id);
        return commits;
    }
    for (auto& name : conf.inputs) {
        auto input = eval.input(name);
        if (!input) {
            log::warn("GitHubStatus: evaluation {} has no input '{}'", eval.id, name);
            continue;
        }
        auto repo = githubRepoFromUrl(input->uri.value_or(""));
        if (!repo || !input->revision) {
            log::warn(
                "GitHubStatus: input '{}' of evaluation {} ({}) names no GitHub repository and revision",
                name, eval.id, input->uri.value_or("no URI"));
            continue;
        }
        commits.emplace_back(name, GithubCommit{*repo, *input->revision});
    }
    return commits;
}

HttpPostRequest statusRequest(const GithubStatusSettings& settings, const GithubStatusConfig& conf,
                              const GithubCommit& c, const std::string& body)
{
    HttpPostRequest req;
    req.url = fmt::format("{}/repos/{}/{}/statuses/{}", settings.endpoint, c.repo.owner, c.repo.repo, c.rev);
    req.headers.emplace_back("Accept", "application/vnd.github.v3+json");
    auto auth = settings.authorization.find(c.repo.owner);
    if (auth != settings.authorization.end())
        req.headers.emplace_back("Authorization", auth->second);
    else if (conf.authorization)
        req.headers.emplace_back("Authorization", *conf.authorization);
    req.body = body;
    req.contentType = "application/json";
    return req;
}

} // namespace

std::string githubState(int buildStatus)
{
    return finishedCommitState(buildStatus);
}

std::optional<GithubRepo> githubRepoFromUrl(std::string_view url)
{
    static const std::regex re(R"([:/]([^/]+)/([^/]+?)(?:\.git)?$)");
    std::match_results<std::string_view::const_iterator> m;
    if (!std::regex_search(url.begin(), url.end(), m, re)) return std::nullopt;
    return GithubRepo{m[1].str(), m[2].str()};
}

std::optional<GithubCommit> githubCommitFromFlake(std::string_view flake)
{
    static const std::regex github(R"(github:([^/]+)/([^/]+)/([0-9a-fA-F]{40})$)");
    static const std::regex ssh(R"(git\+ssh://git@github\.com/([^/]+)/([^/]+)\?.*rev=([0-9a-fA-F]{40})$)");
    std::match_results<std::string_view::const_iterator> m;
    if (std::regex_search(flake.begin(), flake.end(), m, github) ||
        std::regex_search(flake.begin(), flake.end(), m, ssh))
        return GithubCommit{{m[1].str(), m[2].str()}, m[3].str()};
    return std::nullopt;
}

std::string githubContext(const GithubStatusConfig& conf, const std::string& jobName, db::BuildId id)
{
    if (conf.context) return *conf.context;
    std::string trailer = conf.excludeBuildFromContext ? "" : fmt::format(":{}", id);
    if (!conf.useShortContext) return "continuous-integration/hydra:" + jobName + trailer;
    static const std::regex pr(R"(-pr-\d+)");
    auto shortName = std::regex_replace(jobName, pr, "", std::regex_constants::format_first_only);
    return "ci/hydra:" + shortName + trailer;
}

std::vector<HttpPostRequest> githubStatusRequests(const GithubStatusSettings& settings,
                                                  const std::vector<db::BuildDescription>& builds,
                                                  const std::vector<db::BuildEvaluation>& evals,
                                                  bool finished)
{
    std::vector<HttpPostRequest> requests;
    for (auto& build : builds) {
        auto name = jobName(build);
        for (auto& block : settings.blocks) {
            if (!block.jobs.matches(name)) continue;
            // A build that finished meanwhile keeps its final status.
            if (!finished && build.finished) continue;
            auto body = statusBody(block.conf, build, finished, settings.baseUrl);
            SeenCommits seen;
            for (auto& eval : evals)
                for (auto& [input, c] : evalCommits(block.conf, eval))
                    if (seen.emplace(input, c.repo.owner, c.repo.repo, c.rev).second)
                        requests.push_back(statusRequest(settings, block.conf, c, body));
        }
    }
    return requests;
}

bool GithubStatus::wants(const std::string& channel) const
{
    return channel == db::channel::buildQueued || channel == db::channel::buildStarted ||
           channel == db::channel::buildFinished || channel == db::channel::cachedBuildQueued ||
           channel == db::channel::cachedBuildFinished;
}

void GithubStatus::handle(const Event& event, const PluginContext& ctx)
{
    bool cached = event.channel.starts_with("cached_");
    bool finished = event.channel.ends_with("_finished");
    std::optional<int64_t> onlyEval;
    if (cached) onlyEval = std::stoll(event.fields.at(0));
    auto [builds, evals] = ctx.db.withTransaction([&](pqxx::work& t) {
        auto b = loadEventBuilds(t, event, name());
        auto e = b.empty() ? std::vector<db::BuildEvaluation>{}
                           : db::evaluationsOfBuild(t, b.front().id, onlyEval);
        return std::pair(std::move(b), std::move(e));
    });
    sendAll(githubStatusRequests(settings_, builds, evals, finished), name());
}

std::unique_ptr<Plugin> makeGithubStatus(const HydraConfig& config)
{
    if (config.notify.githubStatus.empty()) return nullptr;
    GithubStatusSettings settings;
    for (auto& conf : config.notify.githubStatus) {
        try {
            settings.blocks.push_back({conf, JobPattern(conf.jobs, conf.loc)});
        } catch (const Error& e) {
            log::error("GitHubStatus: {}; this <githubstatus> block is ignored", e.what());
        }
    }
    if (settings.blocks.empty()) return nullptr;
    if (auto endpoint = config.raw.get("github_endpoint")) settings.endpoint = *endpoint;
    while (settings.endpoint.ends_with('/')) settings.endpoint.pop_back();
    settings.baseUrl = webBaseUrl(config);
    settings.authorization = config.notify.githubAuthorization;
    return std::make_unique<GithubStatus>(std::move(settings));
}

} // namespace hydra::notify

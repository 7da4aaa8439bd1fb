#pragma once
// GitHubStatus: commit statuses on GitHub for the revisions a build was evaluated from —
// pending when it is queued or started, success, failure or error when it finishes.

#include "db/build_description.hh"
#include "db/commit_inputs.hh"
#include "notify/http_plugin_support.hh"
#include "notify/plugin.hh"

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hydra::notify {

/// GitHub's state for a finished build's buildStatus (Hydra's toGithubState).
std::string githubState(int buildStatus);

/// A repository on GitHub.
struct GithubRepo {
    std::string owner;
    std::string repo;
    bool operator==(const GithubRepo&) const = default;
};

/// Owner and repository from a git input's URL: https://github.com/owner/repo(.git),
/// git@github.com:owner/repo, ...; nullopt when the URL has no owner/repo at its end.
std::optional<GithubRepo> githubRepoFromUrl(std::string_view url);

/// A commit on GitHub.
struct GithubCommit {
    GithubRepo repo;
    std::string rev;
    bool operator==(const GithubCommit&) const = default;
};

/// The commit of a locked flake reference (github:owner/repo/<rev> or
/// git+ssh://git@github.com/owner/repo?...rev=<rev>); nullopt for any other flake.
std::optional<GithubCommit> githubCommitFromFlake(std::string_view flake);

/// One <githubstatus> block with its compiled `jobs` pattern.
struct GithubStatusBlock {
    GithubStatusConfig conf;
    JobPattern jobs;
};

/// Everything the plugin needs from hydra.conf.
struct GithubStatusSettings {
    std::vector<GithubStatusBlock> blocks;
    std::string endpoint = "https://api.github.com";  ///< github_endpoint, for GitHub Enterprise
    std::string baseUrl;                              ///< links to the build (base_uri)
    std::map<std::string, std::string> authorization; ///< <github_authorization>: owner -> header
};

/// The status context of a build (the `context` option, else Hydra's long or short form).
std::string githubContext(const GithubStatusConfig& conf, const std::string& jobName, db::BuildId id);

/// The requests that report `builds` (the event's build first, then its dependents) on the
/// commits of `evals` (the event's build's evaluations): pending unless `finished`.
std::vector<HttpPostRequest> githubStatusRequests(const GithubStatusSettings& settings,
                                                  const std::vector<db::BuildDescription>& builds,
                                                  const std::vector<db::BuildEvaluation>& evals,
                                                  bool finished);

/// The plugin: reacts to build_queued, build_started, build_finished, cached_build_queued and
/// cached_build_finished.
class GithubStatus : public Plugin {
public:
    explicit GithubStatus(GithubStatusSettings settings) : settings_(std::move(settings)) {}
    std::string_view name() const override { return "GitHubStatus"; }
    bool wants(const std::string& channel) const override;
    void handle(const Event& event, const PluginContext& ctx) override;

private:
    GithubStatusSettings settings_;
};

/// The plugin for `config`'s <githubstatus> blocks, or nullptr when there are none. The API
/// base URL is the top-level key github_endpoint (as Hydra's GithubRefs reads it).
std::unique_ptr<Plugin> makeGithubStatus(const HydraConfig& config);

} // namespace hydra::notify

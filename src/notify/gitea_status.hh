#pragma once
// GiteaStatus: commit statuses on a Gitea server for the revision a build was evaluated from,
// found through the jobset inputs gitea_status_repo, gitea_repo_owner, gitea_repo_name and
// (optionally) gitea_http_url, as Hydra's plugin does.

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

/// How far a build has come when its status is sent.
enum class GiteaPhase { Queued, Started, Finished };

/// Gitea's state: pending before the build finished, else success, failure or error.
std::string giteaState(GiteaPhase phase, int buildStatus);

/// The host of a git URL ("https://host:port/path", "ssh://user@host/path", "user@host:path").
std::string hostOfGitUrl(std::string_view url);

/// Everything the plugin needs from hydra.conf.
struct GiteaStatusSettings {
    std::string baseUrl;                       ///< links to the build (base_uri)
    std::map<std::string, std::string> tokens; ///< <gitea_authorization>: owner -> token
};

/// The requests that report `builds` (the event's build first) on the commits of `evals`.
std::vector<HttpPostRequest> giteaStatusRequests(const GiteaStatusSettings& settings,
                                                 const std::vector<db::BuildDescription>& builds,
                                                 const std::vector<db::BuildEvaluation>& evals,
                                                 GiteaPhase phase);

/// The plugin: reacts to build_queued, build_started and build_finished.
class GiteaStatus : public Plugin {
public:
    explicit GiteaStatus(GiteaStatusSettings settings) : settings_(std::move(settings)) {}
    std::string_view name() const override { return "GiteaStatus"; }
    bool wants(const std::string& channel) const override;
    void handle(const Event& event, const PluginContext& ctx) override;

private:
    GiteaStatusSettings settings_;
};

/// The plugin when `config` has a <gitea_authorization> block with tokens, else nullptr.
std::unique_ptr<Plugin> makeGiteaStatus(const HydraConfig& config);

} // namespace hydra::notify

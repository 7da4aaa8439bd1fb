#pragma once
// SlackNotification: a message to Slack incoming webhooks when a build of a matching job
// finishes with a status different from the job's previous build (or always, with `force`).

#include "db/build_description.hh"
#include "db/queue_notify.hh"
#include "notify/http_plugin_support.hh"
#include "notify/plugin.hh"

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hydra::notify {

/// A finished build with the status of its job's previous build, as the plugin judges it.
struct SlackBuild {
    db::BuildDescription build;
    std::optional<int> previousStatus;
};

/// One <slack> block with its compiled `jobs` pattern.
struct SlackBlock {
    SlackConfig conf;
    JobPattern jobs;
};

/// The webhook message about `top` (the build whose build_finished this is), mentioning
/// `others` further builds of the same webhook.
std::string slackMessage(const db::BuildDescription& top, size_t others, const std::string& baseUrl);

/// The webhook requests for a finished build and its dependents (`builds`, top first): one per
/// webhook URL that some build is reported to, in the order of the blocks.
std::vector<HttpPostRequest> slackRequests(const std::vector<SlackBlock>& blocks,
                                           const std::vector<SlackBuild>& builds, const std::string& baseUrl);

/// The plugin: reacts to build_finished.
class SlackNotification : public Plugin {
public:
    SlackNotification(std::vector<SlackBlock> blocks, std::string baseUrl)
        : blocks_(std::move(blocks)), baseUrl_(std::move(baseUrl))
    {}
    std::string_view name() const override { return "SlackNotification"; }
    bool wants(const std::string& channel) const override { return channel == db::channel::buildFinished; }
    void handle(const Event& event, const PluginContext& ctx) override;

private:
    std::vector<SlackBlock> blocks_;
    std::string baseUrl_;
};

/// The plugin for `config`'s <slack> blocks, or nullptr when there are none.
std::unique_ptr<Plugin> makeSlackNotification(const HydraConfig& config);

} // namespace hydra::notify

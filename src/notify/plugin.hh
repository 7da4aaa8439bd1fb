#pragma once
// Plugin: what every hydra-notify plugin (RunCommand, CompressLog, Email, GitHub and Gitea
// commit statuses, Slack, InfluxDB) implements, and what the daemon gives it.

#include "db/connection_pool.hh"
#include "notify/event.hh"
#include "util/hydra_config.hh"

#include <filesystem>
#include <memory>
#include <string_view>
#include <vector>

namespace hydra::notify {

/// What a plugin may use while it handles an event.
struct PluginContext {
    db::ConnectionPool& db;
    const HydraConfig& config;
    std::filesystem::path dataDir; ///< HYDRA_DATA: build-logs/ and the plugins' own state
};

/// One kind of notification. The daemon calls handle() from its worker threads, at most once
/// at a time per build, so a plugin must be thread-safe across builds.
class Plugin {
public:
    virtual ~Plugin() = default;
    /// The name TaskRetries rows and log lines use: Hydra's ("RunCommand", "CompressLog",
    /// "EmailNotification", "GitHubStatus", "GiteaStatus", "SlackNotification", "InfluxDBNotification").
    virtual std::string_view name() const = 0;
    /// Whether the plugin does anything for events of this channel (cheap; no I/O).
    virtual bool wants(const std::string& channel) const = 0;
    /// Handles one event. Throws to fail: the daemon records the failure in TaskRetries and
    /// calls again after a back-off, also after a restart. A build that no longer exists is not
    /// a failure: the plugin logs it and returns.
    virtual void handle(const Event& event, const PluginContext& ctx) = 0;
};

using PluginList = std::vector<std::unique_ptr<Plugin>>;

} // namespace hydra::notify

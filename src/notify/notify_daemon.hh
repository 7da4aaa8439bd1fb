#pragma once
// hydra-notify's daemon: LISTENs for notifications, hands each event to every plugin that
// wants it on a pool of workers (events of one build in order), retries failed plugin calls
// through TaskRetries, and keeps notificationPendingSince set until a build_finished is done.

#include "notify/plugin.hh"
#include "notify/retry_policy.hh"
#include "util/hydra_config.hh"

#include <chrono>
#include <filesystem>
#include <optional>
#include <stop_token>
#include <string>

namespace hydra::notify {

/// Everything the daemon needs, read once at start-up.
struct NotifyDaemonSettings {
    std::string conninfo;
    std::filesystem::path dataDir; ///< HYDRA_DATA
    HydraConfig config;
    PluginList plugins;
    RetryPolicy retry;
    size_t maxDbConnections = 8;        ///< the pool: one per worker, the retry poller and the scans
    std::chrono::seconds stopGrace{30}; ///< how long SIGTERM waits for running plugin calls
    /// Prometheus exporter "host:port", from <hydra_notify> <prometheus> listen_address and
    /// port (as Hydra's hydra-notify); unset: no exporter.
    std::optional<std::string> metricsAddress;
};

/// The exporter address hydra.conf configures; nullopt when it has no <hydra_notify><prometheus>
/// block, or (logged as a warning naming the line) when its port is missing or bad.
std::optional<std::string> notifyMetricsAddress(const HydraConfig& config);

/// Runs until `stop` is requested, then stops taking events and waits up to stopGrace for the
/// plugin calls in hand. If some are still running then, it logs so and ends the process at
/// once with status 0 (their builds stay pending; RunCommandLogs show the runs interrupted).
/// Throws hydra::Error if it cannot start (database unreachable).
void runNotifyDaemon(NotifyDaemonSettings& settings, const std::stop_token& stop);

} // namespace hydra::notify

#pragma once
// QueueRunner: the hydra-queue-runner daemon put together from its components.

#include "util/hydra_config.hh"

#include <filesystem>
#include <stop_token>
#include <string>

namespace hydra::qr {

/// What the daemon is started with, read once by main().
struct QueueRunnerSettings {
    std::string conninfo;          ///< the database, as db::DatabaseSource chose it
    HydraConfig config;            ///< hydra.conf
    std::filesystem::path dataDir; ///< HYDRA_DATA: build logs live below it
    std::vector<std::string> machinesFiles;
};

/// Runs the queue monitor, the dispatcher and the status reporter until `stop`; on stop, no
/// new steps start and running ones are stopped and recorded as aborted (their builds stay
/// queued). Throws hydra::Error if it cannot start (no database, no usable store).
void runQueueRunner(const QueueRunnerSettings& settings, const std::stop_token& stop);

/// Asks a running queue runner for its status (dump_status, then SystemStatus) and returns
/// the JSON text; throws hydra::Error if none answers within `timeout`.
std::string queryQueueRunnerStatus(const std::string& conninfo, std::chrono::seconds timeout);

} // namespace hydra::qr

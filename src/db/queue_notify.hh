#pragma once
// The queue runner's announcements on Hydra's channels (NOTIFY inside the caller's transaction,
// so they are sent exactly when the change they announce commits) and its SystemStatus document.

#include <cstdint>
#include <optional>
#include <pqxx/transaction_base>
#include <span>
#include <string>
#include <string_view>

namespace hydra::db {

using BuildId = int64_t;

/// Payload of build_finished: the build, then the other builds that finished with it, tab-separated.
std::string buildFinishedPayload(BuildId id, std::span<const BuildId> dependents);

/// build_started: `id`.
void notifyBuildStarted(pqxx::transaction_base& t, BuildId id);
/// step_started: `id<TAB>stepnr`.
void notifyStepStarted(pqxx::transaction_base& t, BuildId id, int stepNr);
/// step_finished: `id<TAB>stepnr<TAB>logPath`; throws hydra::Error if logPath holds a tab.
void notifyStepFinished(pqxx::transaction_base& t, BuildId id, int stepNr, std::string_view logPath);
/// build_finished: `id` then each dependent id, tab-separated.
void notifyBuildFinished(pqxx::transaction_base& t, BuildId id, std::span<const BuildId> dependents);
/// dump_status (no payload): asks a running queue runner to write its status document.
void notifyDumpStatus(pqxx::transaction_base& t);

/// Replaces SystemStatus 'queue-runner' with `json` and sends status_dumped.
void writeQueueRunnerStatus(pqxx::transaction_base& t, std::string_view json);
/// The queue runner's status document, if one is stored.
std::optional<std::string> readQueueRunnerStatus(pqxx::transaction_base& t);
/// Removes the queue runner's status document (it is not running).
void deleteQueueRunnerStatus(pqxx::transaction_base& t);

} // namespace hydra::db

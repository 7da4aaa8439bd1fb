#pragma once
// The queue runner's announcements on Hydra's channels (NOTIFY inside the caller's transaction,
// so they are sent exactly when the change they announce commits) and its SystemStatus document.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <pqxx/transaction_base>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace hydra::db {

using BuildId = int64_t;

/// The channels the queue runner sends on (Hydra's names).
namespace channel {
inline constexpr const char* buildStarted = "build_started";
inline constexpr const char* stepStarted = "step_started";
inline constexpr const char* stepFinished = "step_finished";
inline constexpr const char* buildFinished = "build_finished";
inline constexpr const char* dumpStatus = "dump_status";
inline constexpr const char* statusDumped = "status_dumped";
} // namespace channel

/// Payload of build_finished: the build, then the other builds that finished with it, tab-separated.
std::string buildFinishedPayload(BuildId id, std::span<const BuildId> dependents);

/// The most bytes one build_finished payload holds. PostgreSQL refuses a payload of 8,000 bytes
/// or more, and with it the whole transaction; Hydra's queue runner splits at 7,000.
inline constexpr size_t buildFinishedPartLimit = 7000;

/// buildFinishedPayload split into payloads of at most buildFinishedPartLimit bytes, each
/// starting with `id` and followed by as many whole dependent ids as fit, in order; one payload
/// (the id alone) when there are no dependents.
std::vector<std::string> buildFinishedPayloads(BuildId id, std::span<const BuildId> dependents);

/// build_started: `id`.
void notifyBuildStarted(pqxx::transaction_base& t, BuildId id);
/// step_started: `id<TAB>stepnr`.
void notifyStepStarted(pqxx::transaction_base& t, BuildId id, int stepNr);
/// step_finished: `id<TAB>stepnr<TAB>logPath`; throws hydra::Error if logPath holds a tab.
void notifyStepFinished(pqxx::transaction_base& t, BuildId id, int stepNr, std::string_view logPath);
/// build_finished: `id` then each dependent id, tab-separated; several notifications, as
/// buildFinishedPayloads splits them, when the dependents do not fit in one.
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

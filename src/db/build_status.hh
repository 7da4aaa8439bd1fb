#pragma once
// Hydra's numeric build/step status codes and build-step busy stages, as stored in the database.

#include <string_view>

namespace hydra::db {

/// Builds.buildStatus / BuildSteps.status values (Hydra's codes; stored as integers).
enum class BuildStatus : int {
    Success = 0,
    Failed = 1,
    DepFailed = 2,
    Aborted = 3,
    Cancelled = 4,
    Obsolete = 5,
    FailedWithOutput = 6,
    TimedOut = 7,
    CachedFailure = 8,
    Unsupported = 9,
    LogLimitExceeded = 10,
    NarSizeLimitExceeded = 11,
    NotDeterministic = 12,
};

/// BuildSteps.busy values: what a running step is doing (0 once finished).
enum class StepBusy : int {
    Idle = 0,
    Preparing = 1,
    Connecting = 10,
    SendingInputs = 20,
    Building = 30,
    WaitingForLocalSlot = 35,
    ReceivingOutputs = 40,
    PostProcessing = 50,
};

/// Lower-case name of a status ("success", "dep-failed", ...), "unknown" for other values.
std::string_view buildStatusName(BuildStatus s);

/// Lower-case name of a busy stage ("building", ...), "unknown" for other values.
std::string_view stepBusyName(StepBusy b);

} // namespace hydra::db

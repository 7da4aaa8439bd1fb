#include "db/build_status.hh"

namespace hydra::db {

std::string_view buildStatusName(BuildStatus s)
{
    switch (s) {
    case BuildStatus::Success: return "success";
    case BuildStatus::Failed: return "failed";
    case BuildStatus::DepFailed: return "dep-failed";
    case BuildStatus::Aborted: return "aborted";
    case BuildStatus::Cancelled: return "cancelled";
    case BuildStatus::Obsolete: return "obsolete";
    case BuildStatus::FailedWithOutput: return "failed-with-output";
    case BuildStatus::TimedOut: return "timed-out";
    case BuildStatus::CachedFailure: return "cached-failure";
    case BuildStatus::Unsupported: return "unsupported";
    case BuildStatus::LogLimitExceeded: return "log-limit-exceeded";
    case BuildStatus::NarSizeLimitExceeded: return "nar-size-limit-exceeded";
    case BuildStatus::NotDeterministic: return "not-deterministic";
    }
    return "unknown";
}

std::string_view stepBusyName(StepBusy b)
{
    switch (b) {
    case StepBusy::Idle: return "idle";
    case StepBusy::Preparing: return "preparing";
    case StepBusy::Connecting: return "connecting";
    case StepBusy::SendingInputs: return "sending-inputs";
    case StepBusy::Building: return "building";
    case StepBusy::WaitingForLocalSlot: return "waiting-for-local-slot";
    case StepBusy::ReceivingOutputs: return "receiving-outputs";
    case StepBusy::PostProcessing: return "post-processing";
    }
    return "unknown";
}

} // namespace hydra::db

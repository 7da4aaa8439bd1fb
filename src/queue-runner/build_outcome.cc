#include "queue-runner/build_outcome.hh"

namespace hydra::qr {

using db::BuildStatus;
using SBS = nix::serve::BuildStatus;

bool ResultMapping::outputsValid() const
{
    return status == BuildStatus::Success || status == BuildStatus::FailedWithOutput;
}

namespace {

ResultMapping success(bool failedMarker, bool cached)
{
    return {.status = failedMarker ? BuildStatus::FailedWithOutput : BuildStatus::Success,
            .isCached = cached};
}

} // namespace

ResultMapping mapBuildResult(SBS status, bool failedMarker)
{
    switch (status) {
    case SBS::Built: return success(failedMarker, false);
    case SBS::Substituted:
    case SBS::AlreadyValid:
    case SBS::ResolvesToAlreadyValid: return success(failedMarker, true);
    case SBS::PermanentFailure: return {.status = BuildStatus::Failed, .canCache = true};
    // Rejections say why: Hydra keeps the message with them.
    case SBS::InputRejected:
    case SBS::OutputRejected: return {.status = BuildStatus::Failed, .canCache = true, .keepErrorMsg = true};
    case SBS::TransientFailure: return {.status = BuildStatus::Failed, .transient = true};
    case SBS::TimedOut: return {.status = BuildStatus::TimedOut};
    case SBS::MiscFailure: return {.status = BuildStatus::Aborted, .transient = true, .keepErrorMsg = true};
    case SBS::LogLimitExceeded: return {.status = BuildStatus::LogLimitExceeded};
    case SBS::NotDeterministic: return {.status = BuildStatus::NotDeterministic, .canCache = true};
    case SBS::DependencyFailed: return {.status = BuildStatus::DepFailed};
    case SBS::CachedFailure:
    case SBS::NoSubstituters: break;
    }
    return {.status = BuildStatus::Aborted, .keepErrorMsg = true};
}

ResultMapping mapBuildPathsStatus(uint64_t exitStatus, bool failedMarker)
{
    // Nix's failing exit status is 100 plus bits: 1 timed out, 2 hash mismatch, 4 check mismatch.
    switch (exitStatus) {
    case 0: return success(failedMarker, false);
    case 100:
    case 102: return {.status = BuildStatus::Failed, .canCache = true, .keepErrorMsg = true};
    case 101: return {.status = BuildStatus::TimedOut};
    case 104: return {.status = BuildStatus::NotDeterministic, .canCache = true};
    default: return {.status = BuildStatus::Aborted, .transient = true, .keepErrorMsg = true};
    }
}

bool isBuildDerivationRefusal(std::string_view message)
{
    return message.find("not privileged to build") != std::string_view::npos;
}

} // namespace hydra::qr

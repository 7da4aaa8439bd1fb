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
    case SBS::PermanentFailure:
    case SBS::InputRejected:
    case SBS::OutputRejected: return {.status = BuildStatus::Failed, .canCache = true};
    case SBS::TransientFailure: return {.status = BuildStatus::Failed, .transient = true};
    case SBS::TimedOut: return {.status = BuildStatus::TimedOut};
    case SBS::MiscFailure: return {.status = BuildStatus::Aborted, .transient = true};
    case SBS::LogLimitExceeded: return {.status = BuildStatus::LogLimitExceeded};
    case SBS::NotDeterministic: return {.status = BuildStatus::NotDeterministic, .canCache = true};
    case SBS::DependencyFailed: return {.status = BuildStatus::DepFailed};
    case SBS::CachedFailure:
    case SBS::NoSubstituters: break;
    }
    return {.status = BuildStatus::Aborted};
}

ResultMapping mapBuildPathsStatus(uint64_t exitStatus, bool failedMarker)
{
    // Nix's failing exit status is 100 plus bits: 1 timed out, 2 hash mismatch, 4 check mismatch.
    switch (exitStatus) {
    case 0: return success(failedMarker, false);
    case 100:
    case 102: return {.status = BuildStatus::Failed, .canCache = true};
    case 101: return {.status = BuildStatus::TimedOut};
    case 104: return {.status = BuildStatus::NotDeterministic, .canCache = true};
    default: return {.status = BuildStatus::Aborted, .transient = true};
    }
}

bool isBuildDerivationRefusal(std::string_view message)
{
    return message.find("not privileged to build") != std::string_view::npos;
}

std::string plainNixMessage(std::string_view message)
{
    std::string out;
    out.reserve(message.size());
    for (size_t i = 0; i < message.size(); ++i) {
        // CSI sequences: ESC '[' parameters, then one final byte in '@'..'~'.
        if (message[i] == '\x1b' && i + 1 < message.size() && message[i + 1] == '[') {
            i += 2;
            while (i < message.size() && (message[i] < '@' || message[i] > '~')) ++i;
            continue;
        }
        out += message[i];
    }
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ' || out.back() == '\r')) out.pop_back();
    return out;
}

std::string firstLine(std::string_view message)
{
    auto plain = plainNixMessage(message);
    auto nl = plain.find('\n');
    if (nl == std::string::npos) return plain;
    plain.resize(nl);
    return plain;
}

} // namespace hydra::qr

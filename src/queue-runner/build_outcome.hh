#pragma once
// How a builder's answer counts for Hydra: serve-protocol results (BuildDerivation, and the
// exit status of the BuildPaths fallback) mapped to Hydra's step status and retry decision.

#include "db/build_status.hh"
#include "nix/serve_protocol.hh"

#include <cstdint>
#include <string>
#include <string_view>

namespace hydra::qr {

/// What one builder answer means for the step: the status to record and what happens next.
struct ResultMapping {
    db::BuildStatus status = db::BuildStatus::Aborted;
    /// Possibly passing (network, machine trouble): try the step again later (Hydra's canRetry).
    bool transient = false;
    /// The failure is the derivation's own: its outputs go to FailedPaths (Hydra's canCache).
    bool canCache = false;
    /// The outputs were already valid or substituted on the machine: nothing was built, no log.
    bool isCached = false;

    /// True when the outputs exist (success, or success with nix-support/failed).
    bool outputsValid() const;
    bool operator==(const ResultMapping&) const = default;
};

/// Maps a BuildDerivation result as Hydra does. `failedMarker` says whether an output holds
/// nix-support/failed: a successful build then counts as FailedWithOutput (outputs valid; Hydra
/// records the step row itself as a success and the build as status 6).
/// Built/Substituted/AlreadyValid (and ResolvesToAlreadyValid) -> Success; PermanentFailure,
/// InputRejected, OutputRejected -> Failed (cacheable); TransientFailure -> Failed, retried;
/// MiscFailure -> Aborted, retried; TimedOut, LogLimitExceeded, NotDeterministic -> their own
/// codes; DependencyFailed -> DepFailed; CachedFailure, NoSubstituters and unknown codes ->
/// Aborted without retry (Hydra's default branch).
ResultMapping mapBuildResult(nix::serve::BuildStatus status, bool failedMarker = false);

/// Maps the BuildPaths reply (Nix's exit status) as Hydra does for builders without
/// BuildDerivation: 0 success; 100 and 102 (hash mismatch) failed, cacheable; 101 timed out;
/// 104 not deterministic; anything else aborted and retried.
ResultMapping mapBuildPathsStatus(uint64_t exitStatus, bool failedMarker = false);

/// True if a failed BuildDerivation's error (or the server's last stderr lines) says the store
/// refuses BuildDerivation to this user (Nix's daemon: "you are not privileged to build ...
/// derivations"), so building the .drv in place with BuildPaths is the way round.
bool isBuildDerivationRefusal(std::string_view message);

/// A message from Nix as a BuildSteps row keeps it: terminal colour codes removed (Nix colours
/// its errors, and the web page shows the text as it is), trailing blank lines dropped.
std::string plainNixMessage(std::string_view message);
/// The first line of plainNixMessage(): what a log line says of a failure (the builder's last
/// log lines that Nix appends are in the build log).
std::string firstLine(std::string_view message);

} // namespace hydra::qr

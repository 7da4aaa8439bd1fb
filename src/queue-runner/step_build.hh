#pragma once
// StepBuild: how a dispatched step is built on its machine, behind an interface so that the
// step runner can be tested without ssh and nix-store --serve.

#include "queue-runner/machine_registry.hh"
#include "queue-runner/session_pool.hh"
#include "queue-runner/step_builder.hh"

#include <chrono>
#include <stop_token>

namespace hydra::qr {

/// Builds one step on a slot's machine and brings its outputs here.
class StepBuild {
public:
    virtual ~StepBuild() = default;
    /// Never throws for trouble with the machine or the build: that is the outcome.
    virtual StepOutcome build(const StepJob& job, const MachineSlot& slot, const ProgressCallback& progress,
                              const std::stop_token& stop) = 0;
    /// Called regularly: closes what sat unused too long.
    virtual void closeIdle() {}
};

/// How machines are reached and how long their sessions are kept.
struct MachineSessionOptions {
    nix::ConnectionOptions connection;
    /// How long a machine's session may sit unused before it is closed (0: never kept).
    std::chrono::seconds sessionMaxIdle{60};
    /// How long a session may live before it is closed at its next release (see SessionPool).
    std::chrono::seconds sessionMaxAge{600};
    /// How many sessions with the local store stay open for copies between steps.
    unsigned localSessionsKept = 4;
};

/// Steps built over `nix-store --serve` sessions (ssh, or the local store), kept between steps.
class ServeStepBuild final : public StepBuild {
public:
    ServeStepBuild(MachineSessionOptions opts, const Clock& clock);

    StepOutcome build(const StepJob& job, const MachineSlot& slot, const ProgressCallback& progress,
                      const std::stop_token& stop) override;
    void closeIdle() override { sessions_.closeIdle(); }
    /// Sessions with the local store from the same pool, for the runner's other local queries:
    /// they end when idle like the steps' own.
    nix::LocalStoreSessions& localSessions() { return localSessions_; }

private:
    MachineSessionOptions opts_;
    SessionPool sessions_;        // before its users below
    LocalSessions localSessions_; // copies to and from build machines
    StepBuilder builder_;
};

} // namespace hydra::qr

#pragma once
// MachineState: the live, shared state of one build machine (slots in use, failures and
// back-off, statistics, send lock). It outlives reloads of the machines file and the
// machine's removal from it, so counters and running steps are never lost.

#include "util/clock.hh"
#include "util/sync.hh"

#include <atomic>
#include <cstdint>
#include <mutex>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>

namespace hydra::nix {
struct Machine;
}

namespace hydra::qr {

/// How long a failing machine is disabled. Defaults are Hydra's: 60 s × 3^(n-1) for the n-th
/// consecutive failure, n at most 4 (so at most 27 min), plus up to 30 s of jitter so that
/// machines failing together do not come back together; failures within 30 s of the last
/// counted one (steps failing in parallel) do not count again.
struct BackoffPolicy {
    std::chrono::seconds interval{60}; ///< hydra.conf retry_interval
    double factor = 3.0;               ///< hydra.conf retry_backoff
    unsigned maxCountedFailures = 4;
    std::chrono::seconds sameIncidentWindow{30};
    std::chrono::seconds maxJitter{30}; ///< 0 in tests: no randomness
};

/// Durations of one finished step on a machine, for its statistics.
struct StepTimes {
    Clock::Duration total{};    ///< from reservation to release (all of the step)
    Clock::Duration build{};    ///< the build proper on the machine
    Clock::Duration overhead{}; ///< copying inputs and outputs
};

/// Failure bookkeeping of a machine, read as one consistent copy.
struct FailureInfo {
    unsigned consecutiveFailures = 0;
    Clock::TimePoint disabledUntil{};      ///< the machine takes no new steps before this
    Clock::TimePoint lastCountedFailure{}; ///< start of the current incident window
    long long lastFailureUnix = 0;         ///< 0: never failed
    std::string lastFailureMessage;
};

/// Shared state of one machine; every member function is thread-safe.
class MachineState {
public:
    MachineState(const Clock& clock, BackoffPolicy policy);
    MachineState(const MachineState&) = delete;
    MachineState& operator=(const MachineState&) = delete;

    /// Takes one slot if fewer than `maxJobs` are in use; never exceeds it under contention.
    bool tryAcquireSlot(unsigned maxJobs);
    /// Gives back a slot taken with tryAcquireSlot.
    void releaseSlot();
    unsigned slotsInUse() const { return slotsInUse_.load(); }

    /// Records a connection or transient failure and disables the machine for a growing time.
    /// Returns how long from now the machine stays disabled.
    Clock::Duration recordFailure(std::string_view message);
    /// The machine worked (connected, or finished a step): failures and back-off are forgotten.
    void recordSuccess();
    bool disabled() const;
    FailureInfo failureInfo() const;

    /// Adds a finished step to the statistics.
    void recordStepDone(const StepTimes& times);
    std::uint64_t stepsDone() const { return stepsDone_.load(); }

    /// Held while copying inputs to the machine, so that sends to it do not interleave.
    std::mutex& sendLock() { return sendLock_; }

    /// Hydra's per-machine fragment of the status JSON (plus maxJobs, speedFactor and our own
    /// totalStepOverhead, lastFailureMessage); `enabled` is false for a removed machine.
    nlohmann::json statusJson(const nix::Machine& machine, bool enabled) const;

private:
    long long toUnix(Clock::TimePoint t) const;

    const Clock& clock_;
    const BackoffPolicy policy_;
    std::atomic<unsigned> slotsInUse_{0};
    std::atomic<long long> idleSinceUnix_;
    std::atomic<std::uint64_t> stepsDone_{0};
    std::atomic<std::int64_t> totalStepMs_{0};
    std::atomic<std::int64_t> totalBuildMs_{0};
    std::atomic<std::int64_t> totalOverheadMs_{0};
    mutable Sync<FailureInfo> failures_;
    std::mutex sendLock_;
};

} // namespace hydra::qr

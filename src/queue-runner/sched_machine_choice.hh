#pragma once
// Machine choice for the scheduler: which machines can take a step type, and which of them
// gets the next step (a sound one before one that failed lately, then the least loaded
// relative to its speed, never above its max jobs).

#include "nix/machines.hh"
#include "queue-runner/step_graph.hh"
#include "util/clock.hh"

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace hydra::qr {

/// A build machine as one dispatch round sees it (built from the registry's MachineView).
struct DispatchMachine {
    std::string name; ///< for assignments and logs (the store URI)
    /// Systems and features. Shared, so that the scheduler can tell a machine it has seen from a
    /// new one (a reloaded machines file) by the pointer alone: the old one cannot be freed and
    /// its address reused while the scheduler still holds it.
    std::shared_ptr<const nix::Machine> machine;
    unsigned inUse = 0; ///< slots busy; dispatch increments it for what it assigns
    unsigned maxJobs = 1;
    double speedFactor = 1;
    std::optional<Clock::TimePoint> disabledUntil; ///< back-off after failures
    unsigned consecutiveFailures = 0;              ///< since its last success: sound machines first
};

/// True if the machine could ever run steps of this type (nix::Machine::supports, maxJobs > 0);
/// a disabled or full machine still counts.
bool canRun(const DispatchMachine& m, const StepType& type);

/// True if the machine is enabled at `now` and has a free slot.
bool hasFreeSlot(const DispatchMachine& m, Clock::TimePoint now);

/// Among `candidates` (indices into `machines`), the one with a free slot: machines without a
/// failure since their last success first, then the lowest load after taking the step,
/// (inUse + 1) / speedFactor; ties: fewer consecutive failures, more free slots, then name.
std::optional<size_t> chooseMachine(std::span<const DispatchMachine> machines,
                                    std::span<const size_t> candidates, Clock::TimePoint now);

} // namespace hydra::qr

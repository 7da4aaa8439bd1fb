#pragma once
// SimFarm: drives the queue runner's real decisions — the Scheduler (step order, fair share,
// machine choice, unsupported steps, delayed retries), the step-end policy (step_policy.hh)
// and each machine's back-off (MachineState) — with simulated machines, a simulated clock
// and simulated build times. No PostgreSQL, no Nix, no threads: one event loop.

#include "queue-runner/machine_state.hh"
#include "queue-runner/scheduler.hh"
#include "queue-runner/step_policy.hh"
#include "sim/sim_workload.hh"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace hydra::sim {

/// A simulated build machine; it fails every step given to it during [failFrom, failUntil).
struct SimMachine {
    nix::Machine machine;
    double failFrom = -1;
    double failUntil = -1;
};

/// A farm shaped like hydra.nixos.org's: `count` machines of four systems, mixed features,
/// max jobs and speed factors, some of them failing for a while.
std::vector<SimMachine> nixosOrgShapedFarm(size_t count, uint64_t seed);

/// What one jobset saw.
struct JobsetFigures {
    std::string name;
    unsigned shares = 0;
    size_t builds = 0;      ///< finished (succeeded or failed), cancelled ones aside
    double meanLatency = 0; ///< seconds from its evaluation's arrival to the build's end
    double p95Latency = 0;
    double buildSeconds = 0; ///< slot-seconds of its steps (split between jobsets sharing one)
};

/// What one simulated run measured.
struct SimResult {
    std::string policy;
    double makespan = 0;   ///< seconds until the last build ended
    double lowerBound = 0; ///< max(critical path from arrival, work ÷ capacity per machine class)
    double criticalPathBound = 0;
    double capacityBound = 0;
    /// A tighter bound: for each class and time t, t + the work of its steps that cannot start
    /// before t (their dependencies' critical path) ÷ its capacity.
    double releaseBound = 0;
    std::string bottleneck; ///< the machine class of capacityBound, e.g. "x86_64-darwin"
    size_t stepsDispatched = 0;
    size_t retries = 0;
    size_t triesUsedUp = 0; ///< steps failed for good after transient failures only
    size_t buildsSucceeded = 0;
    size_t buildsFailed = 0;
    size_t buildsCancelled = 0;
    double utilisation = 0;         ///< busy slot-seconds ÷ (slots × makespan)
    double schedulerCpuPerStep = 0; ///< µs of CPU in the scheduler per dispatched step, all calls
    double dispatchCpuPerStep = 0;  ///< of which in dispatch rounds (choosing steps and machines)
    double successCpuPerStep = 0;   ///< of which in stepSucceeded
    double failureCpuPerStep = 0;   ///< of which in stepFailed (every build needing the step ends)
    double addCpuPerStep = 0;       ///< µs of CPU adding builds, per step added
    size_t peakQueuedSteps = 0;
    double bytesPerQueuedStep = 0; ///< heap growth of the scheduler at its peak ÷ steps queued then
    std::vector<JobsetFigures> jobsets;
};

/// Runs the workload on the farm under the given step order and returns its figures.
SimResult simulate(const SimWorkload& workload, const std::vector<SimMachine>& farm, qr::StepOrder order);

} // namespace hydra::sim

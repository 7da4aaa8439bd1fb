#pragma once
// SimWorkload: a generated farm workload shaped like nixpkgs on hydra.nixos.org, for the farm
// simulator: package sets per system (a bootstrap chain, compiler chains, a wide fan-out of
// packages with heavy-tailed build times), several jobsets with their own scheduling shares,
// evaluations arriving over time, bumps and cancellations.

#include "queue-runner/step_graph.hh"

#include <cstdint>
#include <string>
#include <vector>

namespace hydra::sim {

using StepId = uint32_t;

/// One derivation: what it needs and how long it takes on a machine of speed factor 1.
struct SimStep {
    std::string drvPath;
    std::string system;
    bool bigParallel = false;
    bool kvm = false;
    double seconds = 0;         ///< true build time at speed 1
    double expectedSeconds = 0; ///< what the farm's history says (the true time with noise)
    bool failsForGood = false;  ///< the derivation itself fails (a broken package)
    std::vector<StepId> deps;
};

/// One job of one evaluation: a queued build of a top-level step.
struct SimBuild {
    qr::BuildId id = 0;
    qr::JobsetId jobset = 0;
    std::string job; ///< "project:jobset:attr"
    StepId top = 0;
};

/// An evaluation that arrives at `at` seconds and queues `builds` (ids into SimWorkload::builds);
/// it cancels the still-queued builds listed in `cancels` (its jobset's superseded ones).
struct SimEval {
    double at = 0;
    qr::JobsetId jobset = 0;
    std::vector<size_t> builds;
    std::vector<qr::BuildId> cancels;
};

/// A bump (global priority raised) of some builds at `at` seconds.
struct SimBump {
    double at = 0;
    std::vector<qr::BuildId> builds;
    int globalPriority = 10;
};

/// A jobset and its Jobsets.schedulingShares.
struct SimJobset {
    qr::JobsetId id = 0;
    std::string name;
    unsigned shares = 100;
};

struct SimWorkload {
    std::vector<SimStep> steps;
    std::vector<SimBuild> builds;
    std::vector<SimEval> evals; ///< in order of arrival
    std::vector<SimBump> bumps;
    std::vector<SimJobset> jobsets;
};

/// Sizes of the generated workload.
struct WorkloadShape {
    size_t steps = 100000; ///< about this many derivations in all
    uint64_t seed = 42;
};

/// Generates the nixpkgs-shaped workload (deterministic for a seed).
SimWorkload nixpkgsShaped(const WorkloadShape& shape);

} // namespace hydra::sim

// hydra-sim: the queue runner's scheduling decisions on a simulated farm shaped like
// hydra.nixos.org (a nixpkgs-shaped workload of about 100,000 steps, 200 machines), under this
// project's step order and Hydra's classic one, side by side. Prints one table.
//
// Environment: HYDRA_SIM_STEPS (default 100000), HYDRA_SIM_MACHINES (default 200),
// HYDRA_SIM_SEED (default 42), HYDRA_SIM_SEEDS (how many further seeds to compare in a short
// table, default 4).

#include "bench_support.hh"
#include "sim/sim_farm.hh"
#include "util/error.hh"

#include <fmt/format.h>

#include <chrono>

using namespace hydra;
using namespace hydra::sim;

namespace {

std::string hours(double seconds)
{
    return fmt::format("{:.2f} h", seconds / 3600);
}

void printRun(const SimResult& r, const SimResult* reference)
{
    fmt::print("\n## {}\n\n", r.policy);
    fmt::print("| figure | value |\n|---|---:|\n");
    fmt::print("| makespan | {} |\n", hours(r.makespan));
    fmt::print("| lower bound: max(critical path {}, work ÷ capacity {} of {}) | {} |\n",
               hours(r.criticalPathBound), hours(r.capacityBound), r.bottleneck, hours(r.lowerBound));
    fmt::print("| makespan ÷ lower bound | {:.3f} |\n", r.makespan / r.lowerBound);
    fmt::print("| tighter bound: work ÷ capacity after the earliest time it can start | {} |\n",
               hours(r.releaseBound));
    fmt::print("| makespan ÷ tighter bound | {:.3f} |\n", r.makespan / r.releaseBound);
    if (reference)
        fmt::print("| makespan against {} | {:+.1f} % |\n", reference->policy,
                   100.0 * (r.makespan / reference->makespan - 1));
    fmt::print("| steps dispatched (retries; failed for good after machine failures) | {} ({}; {}) |\n",
               r.stepsDispatched, r.retries, r.triesUsedUp);
    fmt::print("| builds succeeded / failed / cancelled | {} / {} / {} |\n", r.buildsSucceeded,
               r.buildsFailed, r.buildsCancelled);
    fmt::print("| machine utilisation | {:.1f} % |\n", 100 * r.utilisation);
    fmt::print("| scheduler CPU per dispatched step: dispatch rounds / all calls | {:.2f} / {:.2f} µs |\n",
               r.dispatchCpuPerStep, r.schedulerCpuPerStep);
    fmt::print("| of which ends of steps: succeeded / failed for good | {:.2f} / {:.2f} µs |\n",
               r.successCpuPerStep, r.failureCpuPerStep);
    fmt::print("| adding builds: CPU per step added | {:.2f} µs |\n", r.addCpuPerStep);
    fmt::print("| scheduler heap per queued step (at {} queued) | {:.0f} B |\n", r.peakQueuedSteps,
               r.bytesPerQueuedStep);
    double total = 0;
    unsigned shares = 0;
    for (const auto& j : r.jobsets) {
        total += j.buildSeconds;
        shares += j.shares;
    }
    fmt::print(
        "\n| jobset | shares | builds | mean latency | p95 latency | build time | share of build time |\n");
    fmt::print("|---|---:|---:|---:|---:|---:|---:|\n");
    for (const auto& j : r.jobsets)
        fmt::print("| {} | {} ({:.0f} %) | {} | {} | {} | {} | {:.1f} % |\n", j.name, j.shares,
                   100.0 * j.shares / shares, j.builds, hours(j.meanLatency), hours(j.p95Latency),
                   hours(j.buildSeconds), 100 * j.buildSeconds / total);
}

/// The same comparison on other generated workloads and farms: the gap between the orders
/// depends on where the long steps fall in build-id order; the distance to the bound should not.
void seedsTable(size_t steps, size_t machines, uint64_t first, uint64_t count)
{
    if (count == 0) return;
    fmt::print("\n## Other seeds\n\n| seed | classic | ours | ours against classic | classic ÷ tighter "
               "bound | ours ÷ tighter bound |\n|---:|---:|---:|---:|---:|---:|\n");
    for (uint64_t seed = first + 1; seed <= first + count; ++seed) {
        auto workload = nixpkgsShaped({.steps = steps, .seed = seed});
        auto farm = nixosOrgShapedFarm(machines, seed);
        auto classic = simulate(workload, farm, qr::StepOrder::Classic);
        auto ours = simulate(workload, farm, qr::StepOrder::CriticalPath);
        fmt::print("| {} | {} | {} | {:+.1f} % | {:.3f} | {:.3f} |\n", seed, hours(classic.makespan),
                   hours(ours.makespan), 100.0 * (ours.makespan / classic.makespan - 1),
                   classic.makespan / classic.releaseBound, ours.makespan / ours.releaseBound);
        std::fflush(stdout);
    }
}

} // namespace

int main()
{
    try {
        auto steps = bench::envNumber("HYDRA_SIM_STEPS", 100000);
        auto machines = bench::envNumber("HYDRA_SIM_MACHINES", 200);
        auto seed = bench::envNumber("HYDRA_SIM_SEED", 42);
        auto began = std::chrono::steady_clock::now();
        auto workload = nixpkgsShaped({.steps = steps, .seed = seed});
        auto farm = nixosOrgShapedFarm(machines, seed);
        size_t slots = 0;
        for (const auto& m : farm) slots += m.machine.maxJobs;
        fmt::print("# hydra-sim: {} steps, {} builds in {} evaluations, {} machines ({} slots)\n",
                   workload.steps.size(), workload.builds.size(), workload.evals.size(), farm.size(), slots);
        auto classic = simulate(workload, farm, qr::StepOrder::Classic);
        auto ours = simulate(workload, farm, qr::StepOrder::CriticalPath);
        printRun(classic, nullptr);
        printRun(ours, &classic);
        seedsTable(steps, machines, seed, bench::envNumber("HYDRA_SIM_SEEDS", 4, 0));
        fmt::print("\n");
        bench::summary("hydra-sim",
                       fmt::format("makespan, {} steps on {} machines", workload.steps.size(), farm.size()),
                       hours(ours.makespan), fmt::format("{} Hydra's classic order", hours(classic.makespan)),
                       fmt::format("{:+.1f} %", 100.0 * (ours.makespan / classic.makespan - 1)));
        bench::summary("hydra-sim", "makespan against lower bounds", hours(ours.makespan),
                       fmt::format("{} / {} (tighter)", hours(ours.lowerBound), hours(ours.releaseBound)),
                       fmt::format("{:.3f} / {:.3f}", ours.makespan / ours.lowerBound,
                                   ours.makespan / ours.releaseBound));
        bench::summary(
            "hydra-sim", "scheduler CPU per dispatched step: dispatch / all",
            fmt::format("{:.2f} / {:.2f} µs", ours.dispatchCpuPerStep, ours.schedulerCpuPerStep), "goal 5 µs",
            fmt::format("{:.2f} / {:.2f}", ours.dispatchCpuPerStep / 5, ours.schedulerCpuPerStep / 5));
        bench::summary("hydra-sim", "scheduler heap per queued step",
                       fmt::format("{:.0f} B", ours.bytesPerQueuedStep), "goal 1 KiB",
                       fmt::format("{:.2f}", ours.bytesPerQueuedStep / 1024));
        fmt::print("\n(simulated in {:.1f} s)\n",
                   std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count());
        return 0;
    } catch (const std::exception& e) {
        fmt::print(stderr, "hydra-sim: {}\n", e.what());
        return 1;
    }
}

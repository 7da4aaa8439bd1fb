#include "queue-runner/sched_machine_choice.hh"

#include <tuple>

namespace hydra::qr {

bool canRun(const DispatchMachine& m, const StepType& type)
{
    return m.machine && m.maxJobs > 0 &&
           m.machine->supports(type.system, type.requiredFeatures, type.preferLocalBuild);
}

bool hasFreeSlot(const DispatchMachine& m, Clock::TimePoint now)
{
    return m.inUse < m.maxJobs && !(m.disabledUntil && *m.disabledUntil > now);
}

std::optional<size_t> chooseMachine(std::span<const DispatchMachine> machines,
                                    std::span<const size_t> candidates, Clock::TimePoint now)
{
    std::optional<size_t> best;
    auto rank = [&](size_t i) {
        const auto& m = machines[i];
        double speed = m.speedFactor > 0 ? m.speedFactor : 1.0;
        long long freeSlots = static_cast<long long>(m.maxJobs) - static_cast<long long>(m.inUse);
        // A machine that failed since its last success comes after every sound one, however
        // idle: its back-off may be over, but steps it takes are likely to fail again and use
        // up their tries (on a simulated farm, that failed a sixth of the builds). It still
        // gets steps when the sound machines are full, and its first success clears it.
        return std::tuple<bool, double, unsigned, long long, const std::string&>(
            m.consecutiveFailures > 0, static_cast<double>(m.inUse + 1) / speed, m.consecutiveFailures,
            -freeSlots, m.name);
    };
    for (size_t i : candidates) {
        if (!hasFreeSlot(machines[i], now)) continue;
        if (!best || rank(i) < rank(*best)) best = i;
    }
    return best;
}

} // namespace hydra::qr

#include "queue-runner/step_policy.hh"

#include <cmath>

namespace hydra::qr {

Clock::Duration RetryPolicy::delayAfter(unsigned tries) const
{
    // Computed in seconds as a double: retry_backoff may be fractional, and a large number
    // of tries must saturate rather than overflow the duration.
    double seconds = static_cast<double>(interval.count()) * std::pow(backoff, tries);
    constexpr double cap = 365.0 * 24 * 3600;
    auto clamped = std::chrono::duration<double>(std::min(seconds, cap));
    return std::chrono::duration_cast<Clock::Duration>(clamped);
}

StepDecision decideStepEnd(const StepEnd& end, const RetryPolicy& policy)
{
    using Health = StepDecision::Health;
    // A stop wins over whatever the interrupted build reported: its outcome is not trusted.
    if (end.stopRequested) return {.verdict = StepVerdict::Stopped};
    if (end.outputsValid) return {.verdict = StepVerdict::Succeeded, .machine = Health::Sound};
    if (!end.transient) return {.verdict = StepVerdict::Failed};
    // maxTries counts attempts: with 5, a step runs at most five times.
    if (end.tries + 1 < policy.maxTries)
        return {
            .verdict = StepVerdict::Retry, .delay = policy.delayAfter(end.tries), .machine = Health::Failing};
    return {.verdict = StepVerdict::Failed, .machine = Health::Failing};
}

} // namespace hydra::qr

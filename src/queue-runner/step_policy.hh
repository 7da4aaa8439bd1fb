#pragma once
// StepPolicy: the pure decision of what a step's end means, shared by the step runner and
// the farm simulator (bench/farm_sim*), so both follow the same retry rules.

#include "util/clock.hh"

#include <chrono>

namespace hydra::qr {

/// How transient failures are retried (hydra.conf max_tries, retry_interval, retry_backoff).
struct RetryPolicy {
    unsigned maxTries = 5;
    std::chrono::seconds interval{60};
    double backoff = 3.0;

    /// The wait before the attempt after `tries` earlier transient failures: interval ×
    /// backoff^tries, as Hydra waits.
    Clock::Duration delayAfter(unsigned tries) const;
};

/// What the runner knows when a step ends.
struct StepEnd {
    bool stopRequested = false; ///< the step's thread was told to stop (cancel or shutdown)
    bool outputsValid = false;  ///< Success or FailedWithOutput, outputs in the local store
    bool transient = false;     ///< the machine or the connection failed, not the derivation
    unsigned tries = 0;         ///< earlier attempts that ended in a transient failure
};

/// What to do about it.
enum class StepVerdict {
    Succeeded, ///< record the outputs; the builds whose top-level step it was are done
    Retry,     ///< record the attempt as aborted and queue the step again after `delay`
    Failed,    ///< record the failure; every build needing the step fails
    Stopped,   ///< record it cancelled (nobody needs it) or aborted (shutdown: stays queued)
};

/// A verdict, its retry delay and what the step says about the machine's health.
struct StepDecision {
    StepVerdict verdict = StepVerdict::Failed;
    Clock::Duration delay{}; ///< only for Retry
    /// The machine worked (a success) or failed (a transient failure): it feeds the
    /// machine's back-off. Neither for a stopped step or a failure of the derivation itself.
    enum class Health { Unchanged, Sound, Failing } machine = Health::Unchanged;
};

/// Decides a step's end. Pure: the same facts always give the same decision.
StepDecision decideStepEnd(const StepEnd& end, const RetryPolicy& policy);

} // namespace hydra::qr

#pragma once
// hydra-evaluator's daemon: decides which jobsets are due and evaluates up to
// max_concurrent_evals of them at once, until SIGTERM.

#include "evaluator/evaluation.hh"
#include "util/clock.hh"

#include <chrono>
#include <stop_token>
#include <string>

namespace hydra::evaluator {

/// Everything the daemon needs, read once at start-up.
struct EvaluatorDaemonSettings {
    std::string conninfo;
    EvaluationSettings evaluation;
    unsigned maxConcurrentEvals = 4;
    /// Jobsets are re-read at least this often, so a missed notification delays, never stalls.
    std::chrono::seconds maxSleep{60};
    /// After the database could not be read, wait this long before trying again.
    std::chrono::seconds retryDelay{5};
};

/// Runs until `stop` is requested; then asks running evaluations to stop (their jobsets are
/// freed) and waits for them. Throws hydra::Error if it cannot start (database unreachable).
void runEvaluatorDaemon(const EvaluatorDaemonSettings& settings, const Clock& clock,
                        const std::stop_token& stop);

/// hydra-evaluator --unlock: frees jobsets whose startTime an evaluator that died left set.
int unlockJobsets(const std::string& conninfo);

} // namespace hydra::evaluator

#pragma once
// RetryPolicy: when a plugin that failed on an event is tried again, and when it is given up.

#include <chrono>
#include <cstdint>

namespace hydra::notify {

/// Exponential back-off with a cap: the n-th failure waits base * 2^n, at most `cap`; after
/// `maxAttempts` failures the event is given up (logged as an error).
struct RetryPolicy {
    std::chrono::milliseconds base{1000};
    std::chrono::seconds cap{std::chrono::hours(1)};
    int maxAttempts = 20;

    /// Seconds to wait after the `attempts`-th failure (rounded up: TaskRetries counts seconds).
    int64_t delaySeconds(int attempts) const;

    /// The defaults, with the base taken from HYDRA_NOTIFY_RETRY_BASE_MS when set (a hidden
    /// setting for tests, which cannot wait for real back-offs).
    static RetryPolicy fromEnvironment();
};

} // namespace hydra::notify

#pragma once
// DurationHistory: expected build durations by job name or derivation name, for the
// critical-path estimate of the scheduler.

#include <chrono>
#include <string>
#include <string_view>
#include <unordered_map>

namespace hydra::qr {

/// Past step durations keyed by job name ("project:jobset:job") or derivation name ("hello-2.12").
class DurationHistory {
public:
    explicit DurationHistory(std::chrono::seconds fallback = std::chrono::seconds(60)) : fallback_(fallback)
    {}

    /// What a step with this key is expected to take: its history, else the fallback.
    std::chrono::seconds expected(const std::string& key) const;
    /// Sets the expectation outright (e.g. loaded from BuildSteps at start-up).
    void set(const std::string& key, std::chrono::seconds duration);
    /// Folds a measured duration in (mean with the previous expectation, so it adapts quickly).
    void record(const std::string& key, std::chrono::seconds duration);

    /// The key of a non-top-level step: its derivation name, "/nix/store/<hash>-" and ".drv" cut.
    static std::string derivationName(std::string_view drvPath);

private:
    std::chrono::seconds fallback_;
    std::unordered_map<std::string, std::chrono::seconds> known_;
};

} // namespace hydra::qr

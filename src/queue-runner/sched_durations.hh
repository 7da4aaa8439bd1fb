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
    /// One key's record; its address stays valid for the history's life, so a step keeps it
    /// instead of its key (no string per step, no lookup when the step ends).
    struct Entry {
        std::chrono::seconds seconds{};
        bool known = false;
    };

    explicit DurationHistory(std::chrono::seconds fallback = std::chrono::seconds(60)) : fallback_(fallback)
    {}

    /// What a step with this key is expected to take: its history, else the fallback.
    std::chrono::seconds expected(const std::string& key) const;
    std::chrono::seconds expected(const Entry& entry) const
    {
        return entry.known ? entry.seconds : fallback_;
    }
    /// The entry of `key`, made (with no history yet) if there is none.
    Entry& entry(const std::string& key) { return known_[key]; }
    /// Sets the expectation outright (e.g. loaded from BuildSteps at start-up).
    void set(const std::string& key, std::chrono::seconds duration);
    /// Folds a measured duration in (mean with the previous expectation, so it adapts quickly).
    void record(const std::string& key, std::chrono::seconds duration) { record(known_[key], duration); }
    static void record(Entry& entry, std::chrono::seconds duration);

    /// The key of a non-top-level step: its derivation name, "/nix/store/<hash>-" and ".drv" cut.
    static std::string derivationName(std::string_view drvPath);

private:
    std::chrono::seconds fallback_;
    std::unordered_map<std::string, Entry> known_;
};

} // namespace hydra::qr

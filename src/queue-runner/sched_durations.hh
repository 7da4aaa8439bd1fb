#pragma once
// DurationHistory: expected build durations by job name or derivation name, for the
// critical-path estimate of the scheduler.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

namespace hydra::qr {

/// Past step durations keyed by job name ("project:jobset:job") or derivation name ("hello-2.12").
///
/// Keys are kept as 64-bit hashes, not strings: there is an entry for every distinct job and
/// derivation name queued, which at 200,000 queued builds made the names the largest part of
/// the history. Two names sharing a hash (about one chance in 10^7 among a million names)
/// would only share an estimate.
class DurationHistory {
public:
    /// One key's record; its address stays valid for the history's life, so a step keeps it
    /// instead of its key (no string per step, no lookup when the step ends).
    struct Entry {
        uint32_t seconds = 0; ///< the expectation, when `known`
        bool known = false;
    };

    explicit DurationHistory(std::chrono::seconds fallback = std::chrono::seconds(60)) : fallback_(fallback)
    {}

    /// What a step with this key is expected to take: its history, else the fallback.
    std::chrono::seconds expected(std::string_view key) const;
    std::chrono::seconds expected(const Entry& entry) const
    {
        return entry.known ? std::chrono::seconds(entry.seconds) : fallback_;
    }
    /// The entry of `key`, made (with no history yet) if there is none.
    Entry& entry(std::string_view key) { return known_[hash(key)]; }
    /// Sets the expectation outright (e.g. loaded from BuildSteps at start-up).
    void set(std::string_view key, std::chrono::seconds duration);
    /// Folds a measured duration in (mean with the previous expectation, so it adapts quickly).
    void record(std::string_view key, std::chrono::seconds duration) { record(entry(key), duration); }
    static void record(Entry& entry, std::chrono::seconds duration);
    size_t size() const { return known_.size(); }

    /// The key of a non-top-level step: its derivation name, "/nix/store/<hash>-" and ".drv" cut.
    static std::string_view derivationName(std::string_view drvPath);

private:
    static uint64_t hash(std::string_view key);

    std::chrono::seconds fallback_;
    std::unordered_map<uint64_t, Entry> known_;
};

} // namespace hydra::qr

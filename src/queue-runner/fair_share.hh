#pragma once
// FairShare: how much of its scheduling share each jobset has used in a sliding time window.
//
// Hydra orders steps of equal global priority by the jobset that has used the least of its
// share: build seconds spent in the last `window`, divided by the jobset's `schedulingShares`.
// Usage older than the window expires, so a jobset that built a lot yesterday is not starved
// today. Time comes from the caller (the scheduler's injected clock): no I/O, no threads.

#include "util/clock.hh"

#include <chrono>
#include <cstdint>
#include <deque>
#include <unordered_map>

namespace hydra::qr {

using JobsetId = int64_t;

/// Per-jobset build seconds in a sliding window, against the jobset's scheduling shares.
class FairShare {
public:
    /// Hydra's default window is one day; `defaultShares` is the column default (100).
    explicit FairShare(Clock::Duration window = std::chrono::hours(24), unsigned defaultShares = 100);

    /// Jobsets.schedulingShares; 0 counts as 1 (the schema forbids it, a share must exist).
    void setShares(JobsetId jobset, unsigned shares);
    unsigned shares(JobsetId jobset) const;

    /// Charges `seconds` of build time to `jobset`, counted until `at + window`.
    void addUsage(JobsetId jobset, Clock::TimePoint at, std::chrono::seconds seconds);

    /// Build seconds charged within (now - window, now]; drops what expired.
    int64_t usedSeconds(JobsetId jobset, Clock::TimePoint now);

    /// usedSeconds / shares: lower means more deserving of the next free slot.
    double shareUsed(JobsetId jobset, Clock::TimePoint now);

private:
    struct Usage {
        std::deque<std::pair<Clock::TimePoint, int64_t>> records; // oldest first
        int64_t total = 0;
    };
    void expire(Usage& usage, Clock::TimePoint now) const;

    Clock::Duration window_;
    unsigned defaultShares_;
    std::unordered_map<JobsetId, unsigned> shares_;
    std::unordered_map<JobsetId, Usage> usage_;
};

} // namespace hydra::qr

#include "queue-runner/sched_history.hh"

#include <algorithm>

namespace hydra::qr {

std::string jobDurationKey(const std::string& project, const std::string& jobset, const std::string& job)
{
    return project + ":" + jobset + ":" + job;
}

void seedFairShare(FairShare& share, std::span<const PastStep> steps, Clock::TimePoint now, int64_t nowUnix)
{
    for (const auto& s : steps) {
        auto ago = std::chrono::seconds(std::max<int64_t>(nowUnix - s.stopTime, 0));
        share.addUsage(s.jobset, now - ago,
                       std::chrono::seconds(std::max<int64_t>(s.stopTime - s.startTime, 0)));
    }
}

void seedDurations(DurationHistory& history, std::span<const PastStep> steps)
{
    for (const auto& s : steps)
        if (s.succeeded && s.stopTime >= s.startTime)
            history.record(s.durationKey, std::chrono::seconds(s.stopTime - s.startTime));
}

} // namespace hydra::qr

#include "queue-runner/fair_share.hh"

#include <algorithm>

namespace hydra::qr {

FairShare::FairShare(Clock::Duration window, unsigned defaultShares)
    : window_(window), defaultShares_(std::max(defaultShares, 1U))
{}

void FairShare::setShares(JobsetId jobset, unsigned shares)
{
    shares_[jobset] = std::max(shares, 1U);
}

unsigned FairShare::shares(JobsetId jobset) const
{
    auto i = shares_.find(jobset);
    return i == shares_.end() ? defaultShares_ : i->second;
}

void FairShare::addUsage(JobsetId jobset, Clock::TimePoint at, std::chrono::seconds seconds)
{
    if (seconds.count() <= 0) return;
    auto& usage = usage_[jobset];
    // Records arrive in time order from one clock; a late one is kept in order anyway.
    auto pos = usage.records.end();
    while (pos != usage.records.begin() && std::prev(pos)->first > at) --pos;
    usage.records.insert(pos, {at, seconds.count()});
    usage.total += seconds.count();
}

void FairShare::expire(Usage& usage, Clock::TimePoint now) const
{
    while (!usage.records.empty() && usage.records.front().first + window_ <= now) {
        usage.total -= usage.records.front().second;
        usage.records.pop_front();
    }
}

int64_t FairShare::usedSeconds(JobsetId jobset, Clock::TimePoint now)
{
    auto i = usage_.find(jobset);
    if (i == usage_.end()) return 0;
    expire(i->second, now);
    int64_t total = i->second.total;
    if (i->second.records.empty()) usage_.erase(i);
    return total;
}

double FairShare::shareUsed(JobsetId jobset, Clock::TimePoint now)
{
    return static_cast<double>(usedSeconds(jobset, now)) / static_cast<double>(shares(jobset));
}

} // namespace hydra::qr

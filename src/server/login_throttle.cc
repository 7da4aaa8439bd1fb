#include "server/login_throttle.hh"

#include <algorithm>

namespace hydra::server {

std::optional<int64_t> LoginThrottle::retryAfter(const std::string& address)
{
    auto now = now_();
    auto failures = failures_.lock();
    auto it = failures->find(address);
    if (it == failures->end()) return std::nullopt;
    if (now - it->second.last >= forgetAfter) {
        failures->erase(it);
        return std::nullopt;
    }
    int over = it->second.count - freeFailures;
    if (over < 0) return std::nullopt;
    int64_t delay = std::min<int64_t>(maxDelay, int64_t{1} << std::min(over, 20));
    int64_t wait = it->second.last + delay - now;
    if (wait <= 0) return std::nullopt;
    return wait;
}

void LoginThrottle::recordFailure(const std::string& address)
{
    auto now = now_();
    auto failures = failures_.lock();
    if (failures->size() >= maxAddresses && !failures->contains(address)) {
        // Forget the stale ones; under a flood of fresh addresses, start over rather than grow.
        std::erase_if(*failures, [&](auto& e) { return now - e.second.last >= forgetAfter; });
        if (failures->size() >= maxAddresses) failures->clear();
    }
    auto& f = (*failures)[address];
    if (now - f.last >= forgetAfter) f.count = 0;
    ++f.count;
    f.last = now;
}

void LoginThrottle::recordSuccess(const std::string& address)
{
    failures_.lock()->erase(address);
}

} // namespace hydra::server

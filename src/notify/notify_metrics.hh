#pragma once
// NotifyMetrics: hydra-notify's counters (events per channel, plugin calls, failures, time
// spent) and their Prometheus families.

#include "metrics/prometheus_text.hh"
#include "util/sync.hh"

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace hydra::notify {

/// Counters shared by the daemon's threads.
class NotifyMetrics {
public:
    void eventReceived(const std::string& channel);
    void malformedEvent();
    /// One plugin call finished (ok or failed) after `took`, `waited` after the event was queued.
    void pluginCall(const std::string& channel, const std::string& plugin, bool ok,
                    std::chrono::duration<double> took, std::chrono::duration<double> waited);
    void retryGivenUp();

    /// Every family, with the queue depth and running tasks sampled by the caller.
    std::vector<metrics::MetricFamily> families(size_t queueDepth, size_t running);

private:
    using Key = std::pair<std::string, std::string>; // channel, plugin
    struct Counts {
        std::map<std::string, uint64_t> received;
        uint64_t malformed = 0;
        uint64_t givenUp = 0;
        std::map<Key, uint64_t> handled, failed;
        std::map<Key, double> seconds, waitSeconds;
    };
    Sync<Counts> counts_;
};

} // namespace hydra::notify

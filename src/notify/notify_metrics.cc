#include "notify/notify_metrics.hh"

namespace hydra::notify {

namespace {

using metrics::MetricFamily;
using metrics::MetricType;

template <class V>
MetricFamily perPlugin(std::string name, std::string help,
                       const std::map<std::pair<std::string, std::string>, V>& m)
{
    MetricFamily f{std::move(name), std::move(help), MetricType::Counter, {}};
    for (const auto& [k, v] : m)
        f.samples.push_back({{{"channel", k.first}, {"plugin", k.second}}, static_cast<double>(v)});
    return f;
}

} // namespace

void NotifyMetrics::eventReceived(const std::string& channel)
{
    ++counts_.lock()->received[channel];
}

void NotifyMetrics::malformedEvent()
{
    ++counts_.lock()->malformed;
}

void NotifyMetrics::retryGivenUp()
{
    ++counts_.lock()->givenUp;
}

void NotifyMetrics::pluginCall(const std::string& channel, const std::string& plugin, bool ok,
                               std::chrono::duration<double> took, std::chrono::duration<double> waited)
{
    auto c = counts_.lock();
    Key k{channel, plugin};
    ++(ok ? c->handled : c->failed)[k];
    c->seconds[k] += took.count();
    c->waitSeconds[k] += waited.count();
}

std::vector<MetricFamily> NotifyMetrics::families(size_t queueDepth, size_t running)
{
    auto c = counts_.lock();
    std::vector<MetricFamily> out;
    MetricFamily received{
        "hydra_notify_events_received_total", "Notifications received, by channel.", MetricType::Counter, {}};
    for (const auto& [ch, n] : c->received)
        received.samples.push_back({{{"channel", ch}}, static_cast<double>(n)});
    out.push_back(std::move(received));
    out.push_back({"hydra_notify_events_malformed_total",
                   "Notifications ignored because their payload is malformed.",
                   MetricType::Counter,
                   {{{}, static_cast<double>(c->malformed)}}});
    out.push_back(perPlugin("hydra_notify_plugin_handled_total",
                            "Events a plugin handled, by channel and plugin.", c->handled));
    out.push_back(perPlugin("hydra_notify_plugin_failures_total",
                            "Plugin calls that failed (retried later), by channel and plugin.", c->failed));
    out.push_back(perPlugin("hydra_notify_plugin_seconds_total",
                            "Time spent in plugin calls, by channel and plugin.", c->seconds));
    out.push_back(perPlugin("hydra_notify_plugin_wait_seconds_total",
                            "Time from queueing an event to the end of a plugin call on it (latency).",
                            c->waitSeconds));
    out.push_back({"hydra_notify_retries_given_up_total",
                   "Retried plugin calls given up after too many failures.",
                   MetricType::Counter,
                   {{{}, static_cast<double>(c->givenUp)}}});
    out.push_back({"hydra_notify_queue_depth",
                   "Events waiting for a worker.",
                   MetricType::Gauge,
                   {{{}, static_cast<double>(queueDepth)}}});
    out.push_back({"hydra_notify_tasks_running",
                   "Events being handled now.",
                   MetricType::Gauge,
                   {{{}, static_cast<double>(running)}}});
    return out;
}

} // namespace hydra::notify

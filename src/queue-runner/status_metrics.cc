#include "queue-runner/status_metrics.hh"

#include <nlohmann/json.hpp>
#include <string>

namespace hydra::qr {

using metrics::MetricFamily;
using metrics::MetricSample;
using metrics::MetricType;

namespace {

double number(const nlohmann::json& j, const char* key)
{
    auto it = j.find(key);
    if (it == j.end()) return 0;
    if (it->is_boolean()) return it->get<bool>() ? 1 : 0;
    return it->is_number() ? it->get<double>() : 0;
}

MetricFamily single(std::string name, std::string help, MetricType type, double value)
{
    return {std::move(name), std::move(help), type, {MetricSample{{}, value}}};
}

/// One family with a sample per entry of the object `status[objectKey]`, labelled by its key.
MetricFamily perEntry(const nlohmann::json& status, const char* objectKey, const char* label,
                      const char* field, std::string name, std::string help, MetricType type)
{
    MetricFamily f{std::move(name), std::move(help), type, {}};
    auto it = status.find(objectKey);
    if (it == status.end() || !it->is_object()) return f;
    for (const auto& [key, entry] : it->items()) f.samples.push_back({{{label, key}}, number(entry, field)});
    return f;
}

void addQueue(std::vector<MetricFamily>& out, const nlohmann::json& s)
{
    using enum MetricType;
    out.push_back(single("hydra_queue_builds_queued", "Builds in the queue, not finished", Gauge,
                         number(s, "nrQueuedBuilds")));
    out.push_back(single("hydra_queue_steps_unfinished", "Build steps not finished that queued builds need",
                         Gauge, number(s, "nrUnfinishedSteps")));
    out.push_back(single("hydra_steps_runnable", "Build steps ready to run, waiting for a machine", Gauge,
                         number(s, "nrRunnableSteps")));
    MetricFamily active{"hydra_steps_active", "Build steps running on a machine, by stage", Gauge, {}};
    if (auto it = s.find("activeStepsByStage"); it != s.end() && it->is_object())
        for (const auto& [stage, n] : it->items())
            active.samples.push_back({{{"stage", stage}}, n.is_number() ? n.get<double>() : 0});
    out.push_back(std::move(active));
    out.push_back(single("hydra_builds_done_total", "Builds finished by this queue runner", Counter,
                         number(s, "nrBuildsDone")));
    out.push_back(single("hydra_steps_done_total", "Build steps finished (succeeded or failed)", Counter,
                         number(s, "nrStepsDone")));
    out.push_back(single("hydra_steps_retries_total", "Build step attempts retried after a transient failure",
                         Counter, number(s, "nrRetries")));
    out.push_back(single("hydra_bytes_sent_total", "NAR bytes copied to build machines", Counter,
                         number(s, "bytesSent")));
    out.push_back(single("hydra_bytes_received_total", "NAR bytes copied back from build machines", Counter,
                         number(s, "bytesReceived")));
}

void addMachines(std::vector<MetricFamily>& out, const nlohmann::json& s)
{
    using enum MetricType;
    out.push_back(perEntry(s, "machines", "machine", "currentJobs", "hydra_machine_current_jobs",
                           "Build steps running on the machine", Gauge));
    out.push_back(perEntry(s, "machines", "machine", "maxJobs", "hydra_machine_max_jobs",
                           "Build steps the machine may run at once", Gauge));
    out.push_back(perEntry(s, "machines", "machine", "nrStepsDone", "hydra_machine_steps_done_total",
                           "Build steps the machine finished", Counter));
    out.push_back(perEntry(s, "machines", "machine", "consecutiveFailures",
                           "hydra_machine_consecutive_failures",
                           "Failures of the machine since it last worked", Gauge));
    out.push_back(perEntry(s, "machines", "machine", "enabled", "hydra_machine_enabled",
                           "1 if the machine is in the machines file, 0 if it was removed", Gauge));
    out.push_back(perEntry(s, "machineTypes", "machine_type", "runnable", "hydra_machine_type_runnable",
                           "Runnable build steps of the machine type", Gauge));
    out.push_back(perEntry(s, "machineTypes", "machine_type", "running", "hydra_machine_type_running",
                           "Running build steps of the machine type", Gauge));
    out.push_back(perEntry(s, "machineTypes", "machine_type", "waitTime", "hydra_machine_type_wait_seconds",
                           "Seconds the runnable steps of the machine type have waited, summed", Gauge));
}

} // namespace

std::vector<MetricFamily> statusMetrics(const nlohmann::json& status)
{
    std::vector<MetricFamily> out;
    addQueue(out, status);
    addMachines(out, status);
    nlohmann::json db = status.value("dbConnections", nlohmann::json::object());
    out.push_back(single("hydra_db_connections_open", "Database connections open", MetricType::Gauge,
                         number(db, "open")));
    out.push_back(single("hydra_db_connections_max", "Database connections allowed (max_db_connections)",
                         MetricType::Gauge, number(db, "max")));
    out.push_back(single("hydra_queue_runner_uptime_seconds", "Seconds since the queue runner started",
                         MetricType::Gauge, number(status, "uptime")));
    return out;
}

} // namespace hydra::qr

#include "queue-runner/status_machines.hh"

#include <cmath>
#include <cstdint>
#include <nlohmann/json.hpp>

namespace hydra::qr {

namespace {

/// Seconds (whole or fractional) as whole milliseconds, as Hydra's newest runner reports times.
int64_t millis(const nlohmann::json& m, const char* key)
{
    auto it = m.find(key);
    if (it == m.end() || !it->is_number()) return 0;
    return std::llround(it->get<double>() * 1000.0);
}

nlohmann::json stats(const nlohmann::json& m)
{
    nlohmann::json s = {
        {"currentJobs", m.value("currentJobs", 0)},
        {"nrStepsDone", m.value("nrStepsDone", 0)},
        {"avgStepTimeMs", millis(m, "avgStepTime")},
        {"avgStepBuildTimeMs", millis(m, "avgStepBuildTime")},
        {"totalStepTimeMs", millis(m, "totalStepTime")},
        {"totalStepBuildTimeMs", millis(m, "totalStepBuildTime")},
        {"totalStepOverheadMs", millis(m, "totalStepOverhead")},
        {"idleSince", m.value("idleSince", int64_t{0})},
        {"lastFailure", m.value("lastFailure", int64_t{0})},
        {"disabledUntil", m.value("disabledUntil", int64_t{0})},
        {"consecutiveFailures", m.value("consecutiveFailures", 0)},
    };
    // Ours: why the machine last failed, which Hydra only logs.
    if (m.contains("lastFailureMessage")) s["lastFailureMessage"] = m["lastFailureMessage"];
    return s;
}

} // namespace

nlohmann::json machinesDocument(const nlohmann::json& status)
{
    auto machines = nlohmann::json::object();
    auto none = nlohmann::json::object();
    const auto& listed = status.contains("machines") ? status["machines"] : none;
    const auto& active = status.contains("activeSteps") ? status["activeSteps"] : none;
    for (const auto& [name, m] : listed.items()) {
        auto jobs = nlohmann::json::array();
        for (const auto& [drv, machine] : active.items())
            if (machine == name) jobs.push_back(drv);
        machines[name] = {
            {"hostname", name},
            {"systems", m.value("systemTypes", nlohmann::json::array())},
            {"supportedFeatures", m.value("supportedFeatures", nlohmann::json::array())},
            {"mandatoryFeatures", m.value("mandatoryFeatures", nlohmann::json::array())},
            {"maxJobs", m.value("maxJobs", 1)},
            {"speedFactor", m.value("speedFactor", 1.0)},
            {"enabled", m.value("enabled", true)},
            {"jobs", std::move(jobs)},
            {"stats", stats(m)},
        };
    }
    auto count = machines.size();
    return {{"machines", std::move(machines)}, {"machinesCount", count}};
}

} // namespace hydra::qr

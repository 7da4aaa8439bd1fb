#pragma once
// statusMetrics: the queue runner's status document (the JSON of `hydra-queue-runner
// --status`) as Prometheus metric families, so both views always show the same figures.
// Pure: no I/O.

#include "metrics/prometheus_text.hh"

#include <nlohmann/json_fwd.hpp>
#include <vector>

namespace hydra::qr {

/// The families served on GET /metrics, read from `status` (fields missing count as 0).
std::vector<metrics::MetricFamily> statusMetrics(const nlohmann::json& status);

} // namespace hydra::qr

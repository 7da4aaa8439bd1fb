#pragma once
// Prometheus text exposition format 0.0.4: metric families rendered as the text a scraper
// reads from GET /metrics. Pure: no I/O.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hydra::metrics {

/// The Content-Type of the exposition text.
inline constexpr std::string_view prometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

/// The kind of a metric family, as its TYPE line says.
enum class MetricType { Gauge, Counter };

/// One sample of a family: its labels (name, value) and its value.
struct MetricSample {
    std::vector<std::pair<std::string, std::string>> labels;
    double value = 0;
};

/// A metric family: a name, its HELP text, its TYPE and its samples.
struct MetricFamily {
    std::string name;
    std::string help;
    MetricType type = MetricType::Gauge;
    std::vector<MetricSample> samples;
};

/// Renders the families in order, each with HELP and TYPE lines (a family without samples
/// still gets them). Throws hydra::Error naming a metric or label name the format forbids.
std::string renderPrometheusText(const std::vector<MetricFamily>& families);

/// A label value with backslash, double quote and line feed escaped.
std::string escapeLabelValue(std::string_view value);
/// A HELP text with backslash and line feed escaped.
std::string escapeHelp(std::string_view help);
/// A sample value as the format spells it: integers without a fraction, NaN, +Inf, -Inf.
std::string formatSampleValue(double value);

} // namespace hydra::metrics

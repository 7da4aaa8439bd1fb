// Facts from the Prometheus exposition format 0.0.4: metric names match
// [a-zA-Z_:][a-zA-Z0-9_:]*, label names [a-zA-Z_][a-zA-Z0-9_]* (not starting with "__");
// label values escape \, " and line feed; HELP escapes \ and line feed; values are Go floats
// with NaN, +Inf and -Inf spelled so.

#include "metrics/prometheus_text.hh"

#include "util/error.hh"

#include <cmath>
#include <fmt/format.h>

namespace hydra::metrics {

namespace {

bool isNameChar(char c, bool first, bool colonAllowed)
{
    bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (letter || (colonAllowed && c == ':')) return true;
    return !first && c >= '0' && c <= '9';
}

bool validName(std::string_view name, bool colonAllowed)
{
    if (name.empty()) return false;
    for (size_t i = 0; i < name.size(); ++i)
        if (!isNameChar(name[i], i == 0, colonAllowed)) return false;
    return true;
}

std::string escape(std::string_view s, bool quotes)
{
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '\n')
            out += "\\n";
        else if (quotes && c == '"')
            out += "\\\"";
        else
            out += c;
    }
    return out;
}

void renderSample(std::string& out, const MetricFamily& f, const MetricSample& s)
{
    out += f.name;
    if (!s.labels.empty()) {
        out += '{';
        for (size_t i = 0; i < s.labels.size(); ++i) {
            const auto& [name, value] = s.labels[i];
            if (!validName(name, false) || name.starts_with("__"))
                throw Error("metric {}: invalid label name ‘{}’", f.name, name);
            if (i > 0) out += ',';
            out += fmt::format("{}=\"{}\"", name, escapeLabelValue(value));
        }
        out += '}';
    }
    out += ' ';
    out += formatSampleValue(s.value);
    out += '\n';
}

} // namespace

std::string escapeLabelValue(std::string_view value)
{
    return escape(value, true);
}

std::string escapeHelp(std::string_view help)
{
    return escape(help, false);
}

std::string formatSampleValue(double value)
{
    if (std::isnan(value)) return "NaN";
    if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
    // Counters and gauges here are mostly whole numbers: print them without a fraction as
    // long as a double holds them exactly.
    if (value == std::trunc(value) && std::fabs(value) < 9007199254740992.0)
        return fmt::format("{}", static_cast<long long>(value));
    return fmt::format("{}", value);
}

std::string renderPrometheusText(const std::vector<MetricFamily>& families)
{
    std::string out;
    for (const auto& f : families) {
        if (!validName(f.name, true)) throw Error("invalid metric name ‘{}’", f.name);
        out += fmt::format("# HELP {} {}\n", f.name, escapeHelp(f.help));
        out += fmt::format("# TYPE {} {}\n", f.name, f.type == MetricType::Counter ? "counter" : "gauge");
        for (const auto& s : f.samples) renderSample(out, f, s);
    }
    return out;
}

} // namespace hydra::metrics

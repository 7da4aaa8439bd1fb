#include "queue-runner/db_records.hh"

namespace hydra::qr {

std::vector<db::BuildProduct> productRows(const std::vector<BuildProduct>& products)
{
    std::vector<db::BuildProduct> out;
    out.reserve(products.size());
    for (const auto& p : products)
        out.push_back({.type = p.type,
                       .subtype = p.subtype,
                       .fileSize = p.fileSize ? std::optional<int64_t>(static_cast<int64_t>(*p.fileSize))
                                              : std::nullopt,
                       .sha256hash = p.sha256,
                       .path = p.path,
                       .name = p.name,
                       .defaultPath = p.defaultPath});
    return out;
}

std::vector<db::BuildMetric> metricRows(const std::map<std::string, BuildMetric>& metrics)
{
    std::vector<db::BuildMetric> out;
    out.reserve(metrics.size());
    for (const auto& [name, m] : metrics) out.push_back({.name = m.name, .unit = m.unit, .value = m.value});
    return out;
}

std::vector<db::StepOutput> stepOutputRows(const std::map<std::string, std::string>& outputs)
{
    std::vector<db::StepOutput> out;
    out.reserve(outputs.size());
    for (const auto& [name, path] : outputs) out.push_back({name, path});
    return out;
}

} // namespace hydra::qr

#include "notify/build_json.hh"

#include <cctype>

namespace hydra::notify {

namespace {

template <class T> nlohmann::ordered_json orNull(const std::optional<T>& v)
{
    return v ? nlohmann::ordered_json(*v) : nlohmann::ordered_json(nullptr);
}

nlohmann::ordered_json outputsJson(const db::BuildDescription& b)
{
    auto out = nlohmann::ordered_json::array();
    for (const auto& o : b.outputs) out.push_back({{"name", o.name}, {"path", o.path}});
    return out;
}

nlohmann::ordered_json productsJson(const db::BuildDescription& b)
{
    auto out = nlohmann::ordered_json::array();
    int productNr = 1;
    for (const auto& p : b.products)
        out.push_back({{"productNr", productNr++},
                       {"type", p.type},
                       {"subtype", p.subtype},
                       {"fileSize", orNull(p.fileSize)},
                       {"sha256hash", orNull(p.sha256hash)},
                       {"path", p.path},
                       {"name", p.name},
                       {"defaultPath", p.defaultPath}});
    return out;
}

nlohmann::ordered_json metricsJson(const db::BuildDescription& b)
{
    auto out = nlohmann::ordered_json::array();
    for (const auto& m : b.metrics)
        out.push_back(
            {{"name", m.name},
             {"unit", m.unit.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(m.unit)},
             {"value", m.value}});
    return out;
}

} // namespace

std::string eventName(std::string_view channel)
{
    std::string out;
    bool upper = false;
    for (char c : channel) {
        if (c == '_') {
            upper = true;
            continue;
        }
        out += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
        upper = false;
    }
    return out;
}

nlohmann::ordered_json buildJson(const db::BuildDescription& b, std::string_view event)
{
    nlohmann::ordered_json j;
    j["event"] = event;
    j["build"] = b.id;
    j["finished"] = b.finished;
    j["timestamp"] = b.timestamp;
    j["project"] = b.project;
    j["jobset"] = b.jobset;
    j["job"] = b.job;
    j["drvPath"] = b.drvPath;
    j["startTime"] = orNull(b.startTime);
    j["stopTime"] = orNull(b.stopTime);
    j["buildStatus"] = orNull(b.buildStatus);
    j["nixName"] = b.nixName;
    j["system"] = b.system;
    j["homepage"] = orNull(b.homepage);
    j["description"] = orNull(b.description);
    j["license"] = orNull(b.license);
    j["outputs"] = outputsJson(b);
    j["products"] = productsJson(b);
    j["metrics"] = metricsJson(b);
    return j;
}

} // namespace hydra::notify

#include "evaluator/flake_lock.hh"

#include "util/error.hh"

#include <nlohmann/json.hpp>

namespace hydra::evaluator {

std::string lockedFlakeUrl(const std::string& metadataJson)
{
    auto json = nlohmann::json::parse(metadataJson, nullptr, false);
    if (json.is_discarded() || !json.is_object()) throw Error("nix flake metadata printed no JSON object");
    for (const char* key : {"url", "lockedUrl", "resolvedUrl"}) {
        auto it = json.find(key);
        if (it != json.end() && it->is_string() && !it->get<std::string>().empty())
            return it->get<std::string>();
    }
    throw Error("nix flake metadata printed no locked URL");
}

} // namespace hydra::evaluator

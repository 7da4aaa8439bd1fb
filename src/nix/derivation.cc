#include "nix/derivation.hh"

#include "util/error.hh"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>

namespace hydra::nix {

namespace {

/// The parsed "__json" env var of a derivation with structured attributes, if any.
std::optional<nlohmann::json> structuredAttrs(const Derivation& d)
{
    auto it = d.env.find("__json");
    if (it == d.env.end()) return std::nullopt;
    try {
        auto json = nlohmann::json::parse(it->second);
        if (!json.is_object()) throw Error("not an object");
        return json;
    } catch (const std::exception& e) {
        throw Error("derivation has invalid structured attributes (__json): {}", e.what());
    }
}

std::set<std::string> splitWords(std::string_view rest)
{
    std::set<std::string> words;
    constexpr std::string_view space = " \t\n\r";
    while (true) {
        auto start = rest.find_first_not_of(space);
        if (start == std::string_view::npos) break;
        rest.remove_prefix(start);
        auto end = std::min(rest.find_first_of(space), rest.size());
        words.emplace(rest.substr(0, end));
        rest.remove_prefix(end);
    }
    return words;
}

} // namespace

std::set<std::string> Derivation::requiredSystemFeatures() const
{
    if (auto json = structuredAttrs(*this)) {
        std::set<std::string> features;
        auto it = json->find("requiredSystemFeatures");
        if (it == json->end()) return features;
        if (!it->is_array()) throw Error("structured attribute requiredSystemFeatures is not a list");
        for (auto& f : *it) {
            if (!f.is_string()) throw Error("structured attribute requiredSystemFeatures holds a non-string");
            features.insert(f.get<std::string>());
        }
        return features;
    }
    // Nix splits the env var on any run of whitespace.
    auto it = env.find("requiredSystemFeatures");
    return it == env.end() ? std::set<std::string>{} : splitWords(it->second);
}

bool Derivation::preferLocalBuild() const
{
    if (auto json = structuredAttrs(*this)) {
        auto it = json->find("preferLocalBuild");
        return it != json->end() && it->is_boolean() && it->get<bool>();
    }
    auto it = env.find("preferLocalBuild");
    return it != env.end() && it->second == "1";
}

} // namespace hydra::nix

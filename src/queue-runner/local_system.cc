// Queries the local Nix settings. `nix show-config` needs the nix-command experimental feature
// on Nix 2.x, so it is enabled for that one call; Hydra itself reads the same settings
// (system, max-jobs, system-features) from libnixstore.

#include "queue-runner/local_system.hh"

#include "util/error.hh"
#include "util/logging.hh"
#include "util/process.hh"

#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

namespace hydra::qr {

namespace {

constexpr std::chrono::seconds nixQueryTimeout{60};

/// The "value" of a setting in show-config's JSON, or null if absent.
const nlohmann::json& settingValue(const nlohmann::json& config, const char* name)
{
    static const nlohmann::json null;
    auto it = config.find(name);
    if (it == config.end() || !it->is_object()) return null;
    auto value = it->find("value");
    return value == it->end() ? null : *value;
}

std::set<std::string> stringSet(const nlohmann::json& value, const char* name)
{
    std::set<std::string> out;
    if (value.is_null()) return out;
    if (value.is_string()) { // older Nix prints lists as one space-separated string
        std::istringstream words(value.get<std::string>());
        for (std::string word; words >> word;) out.insert(word);
        return out;
    }
    if (!value.is_array()) throw Error("nix show-config: expected a list for '{}'", name);
    for (const auto& item : value) {
        if (!item.is_string()) throw Error("nix show-config: expected strings in '{}'", name);
        out.insert(item.get<std::string>());
    }
    return out;
}

unsigned maxJobsOf(const nlohmann::json& value)
{
    if (value.is_null()) return 1;
    if (value.is_string() && value.get<std::string>() == "auto")
        return std::max(1U, std::thread::hardware_concurrency());
    if (!value.is_number_unsigned()) throw Error("nix show-config: expected a number for 'max-jobs'");
    auto jobs = value.get<unsigned>();
    if (jobs == 0) {
        // max-jobs = 0 means "only remote builds" to Nix; the queue runner's localhost needs a slot.
        log::warn("nix max-jobs is 0; localhost gets 1 slot");
        return 1;
    }
    return jobs;
}

} // namespace

LocalSystem parseNixConfigJson(std::string_view json)
{
    auto config = nlohmann::json::parse(json, nullptr, false);
    if (config.is_discarded() || !config.is_object()) throw Error("nix show-config: expected a JSON object");
    const auto& system = settingValue(config, "system");
    if (!system.is_string() || system.get<std::string>().empty())
        throw Error("nix show-config: expected a string for 'system'");
    LocalSystem out;
    out.system = system.get<std::string>();
    out.extraPlatforms = stringSet(settingValue(config, "extra-platforms"), "extra-platforms");
    out.systemFeatures = stringSet(settingValue(config, "system-features"), "system-features");
    out.maxJobs = maxJobsOf(settingValue(config, "max-jobs"));
    return out;
}

LocalSystem detectLocalSystem()
{
    ProcessOptions showConfig;
    showConfig.argv = {"nix", "--extra-experimental-features", "nix-command", "show-config", "--json"};
    try {
        return parseNixConfigJson(runChecked(showConfig, {}, nixQueryTimeout));
    } catch (const Error& e) {
        log::warn("cannot read the Nix settings, using 1 job and no features: {}", e.what());
    }
    ProcessOptions eval;
    eval.argv = {"nix-instantiate", "--eval", "--json", "-E", "builtins.currentSystem"};
    auto out = nlohmann::json::parse(runChecked(eval, {}, nixQueryTimeout), nullptr, false);
    if (!out.is_string() || out.get<std::string>().empty())
        throw Error("nix-instantiate --eval -E builtins.currentSystem: expected a string");
    LocalSystem local;
    local.system = out.get<std::string>();
    return local;
}

} // namespace hydra::qr

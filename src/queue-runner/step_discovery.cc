#include "queue-runner/step_discovery.hh"

#include <filesystem>
#include <unordered_set>

namespace hydra::qr {

namespace {

nix::Derivation readStoreDerivation(const std::string& path)
{
    std::error_code ec;
    if (!std::filesystem::exists(path, ec))
        throw MissingDerivation("derivation ‘{}’ is missing from the store", path);
    return nix::readDerivation(path);
}

} // namespace

std::map<std::string, std::string> outputPaths(const nix::Derivation& drv)
{
    std::map<std::string, std::string> out;
    for (const auto& [name, o] : drv.outputs)
        if (!o.path.empty()) out.emplace(name, o.path);
    return out;
}

bool StepDiscovery::outputsValid(const nix::Derivation& drv) const
{
    std::set<std::string> paths;
    for (const auto& [name, path] : outputPaths(drv)) paths.insert(path);
    // A derivation without known output paths (content-addressed) always needs building.
    if (paths.empty()) return false;
    return valid_(paths).size() == paths.size();
}

Discovery StepDiscovery::discover(const std::string& topDrv,
                                  const std::function<bool(const std::string&)>& known) const
{
    Discovery result;
    result.topLevel = readStoreDerivation(topDrv);
    if (outputsValid(result.topLevel)) return result;

    // Iterative depth-first walk (a deep chain must not exhaust the stack); a derivation is
    // emitted once all its inputs have been, so steps come out dependencies first.
    std::unordered_set<std::string> visited{topDrv};
    std::vector<std::pair<std::string, bool>> stack{{topDrv, false}};
    result.derivations.emplace(topDrv, result.topLevel);
    while (!stack.empty()) {
        auto [drvPath, expanded] = stack.back();
        stack.pop_back();
        const nix::Derivation& drv = result.derivations.at(drvPath);
        if (expanded) {
            StepSpec spec{.drvPath = drvPath,
                          .system = drv.platform,
                          .requiredFeatures = drv.requiredSystemFeatures(),
                          .preferLocalBuild = drv.preferLocalBuild()};
            for (const auto& [input, names] : drv.inputDrvs) spec.inputDrvs.push_back(input);
            result.steps.push_back(std::move(spec));
            continue;
        }
        stack.emplace_back(drvPath, true);
        for (const auto& [input, names] : drv.inputDrvs) {
            if (!visited.insert(input).second) continue;
            if (known(input)) {
                result.knownInputs.insert(input);
                continue;
            }
            auto parsed = readStoreDerivation(input);
            if (outputsValid(parsed)) continue;
            result.derivations.emplace(input, std::move(parsed));
            stack.emplace_back(input, false);
        }
    }
    return result;
}

} // namespace hydra::qr

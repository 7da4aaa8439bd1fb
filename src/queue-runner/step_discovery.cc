#include "queue-runner/step_discovery.hh"

#include <filesystem>
#include <unordered_map>
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

/// What a walk over many builds learnt about each derivation it looked at.
struct Walk {
    std::unordered_map<std::string, nix::Derivation> needed;    ///< an output is missing: to build
    std::unordered_map<std::string, nix::Derivation> validTops; ///< top-level, all outputs valid
    std::unordered_map<std::string, std::exception_ptr> broken; ///< could not be read
    std::unordered_set<std::string> known;                      ///< inputs the queue had
    std::unordered_set<std::string> visited;
};

/// Reads `paths` and asks the validity of all their outputs in one query: each goes to
/// `needed` or `broken`, or is returned (all outputs valid). A derivation without known
/// output paths (content-addressed) always needs building.
std::vector<std::pair<std::string, nix::Derivation>> readLevel(const std::vector<std::string>& paths, Walk& w,
                                                               const ValidityQuery& valid)
{
    std::vector<std::pair<std::string, nix::Derivation>> read;
    read.reserve(paths.size());
    std::set<std::string> outputs;
    for (const auto& p : paths) {
        try {
            const auto& drv = read.emplace_back(p, readStoreDerivation(p)).second;
            for (const auto& [name, out] : outputPaths(drv)) outputs.insert(out);
        } catch (const Error&) {
            w.broken.emplace(p, std::current_exception());
        }
    }
    auto validPaths = outputs.empty() ? std::set<std::string>{} : valid(outputs);
    std::vector<std::pair<std::string, nix::Derivation>> allValid;
    for (auto& [path, drv] : read) {
        auto outs = outputPaths(drv);
        bool built = !outs.empty();
        for (const auto& [name, out] : outs) built = built && validPaths.contains(out);
        if (built)
            allValid.emplace_back(std::move(path), std::move(drv));
        else
            w.needed.emplace(std::move(path), std::move(drv));
    }
    return allValid;
}

StepSpec stepSpec(const std::string& drvPath, const nix::Derivation& drv)
{
    StepSpec spec{.drvPath = drvPath,
                  .system = drv.platform,
                  .requiredFeatures = drv.requiredSystemFeatures(),
                  .preferLocalBuild = drv.preferLocalBuild()};
    spec.inputDrvs.reserve(drv.inputDrvs.size());
    for (const auto& [input, names] : drv.inputDrvs) spec.inputDrvs.push_back(input);
    return spec;
}

/// One build's share of the walk: its missing derivations, dependencies first (an iterative
/// depth-first walk: a deep chain must not exhaust the stack).
DiscoveryOutcome assemble(const std::string& top, const Walk& w)
{
    DiscoveryOutcome out;
    if (auto b = w.broken.find(top); b != w.broken.end()) return {.error = b->second};
    if (auto v = w.validTops.find(top); v != w.validTops.end()) {
        out.discovery.topLevel = v->second;
        return out;
    }
    Discovery& d = out.discovery;
    std::unordered_set<std::string_view> seen{top};
    std::vector<std::pair<const std::string*, bool>> stack{{&top, false}};
    while (!stack.empty()) {
        auto [path, expanded] = stack.back();
        stack.pop_back();
        const nix::Derivation& drv = w.needed.at(*path);
        if (expanded) {
            d.steps.push_back(stepSpec(*path, drv));
            d.derivations.emplace(*path, drv);
            continue;
        }
        stack.emplace_back(path, true);
        for (const auto& [input, names] : drv.inputDrvs) {
            if (!seen.insert(input).second) continue;
            if (w.known.contains(input))
                d.knownInputs.insert(input);
            else if (auto b = w.broken.find(input); b != w.broken.end())
                return {.error = b->second};
            else if (w.needed.contains(input))
                stack.emplace_back(&input, false);
        }
    }
    return out;
}

} // namespace

std::map<std::string, std::string> outputPaths(const nix::Derivation& drv)
{
    std::map<std::string, std::string> out;
    for (const auto& [name, o] : drv.outputs)
        if (!o.path.empty()) out.emplace(name, o.path);
    return out;
}

Discovery StepDiscovery::discover(const std::string& topDrv,
                                  const std::function<bool(const std::string&)>& known) const
{
    auto outcome = std::move(discoverAll({topDrv}, known).front());
    if (outcome.error) std::rethrow_exception(outcome.error);
    return std::move(outcome.discovery);
}

std::vector<DiscoveryOutcome>
StepDiscovery::discoverAll(const std::vector<std::string>& topDrvs,
                           const std::function<bool(const std::string&)>& known) const
{
    // Breadth-first over all builds at once: one validity query per level, and a derivation
    // shared by several builds is read and asked about once.
    Walk w;
    std::vector<std::string> level;
    for (const auto& top : topDrvs)
        if (w.visited.insert(top).second) level.push_back(top);
    for (auto& [path, drv] : readLevel(level, w, valid_))
        w.validTops.emplace(std::move(path), std::move(drv));
    while (!level.empty()) {
        std::vector<std::string> inputs;
        for (const auto& drvPath : level) {
            auto drv = w.needed.find(drvPath);
            if (drv == w.needed.end()) continue;
            for (const auto& [input, names] : drv->second.inputDrvs) {
                if (!w.visited.insert(input).second) continue;
                if (known(input))
                    w.known.insert(input);
                else
                    inputs.push_back(input);
            }
        }
        readLevel(inputs, w, valid_); // inputs already built are not walked further
        level = std::move(inputs);
    }
    std::vector<DiscoveryOutcome> out;
    out.reserve(topDrvs.size());
    for (const auto& top : topDrvs) out.push_back(assemble(top, w));
    return out;
}

} // namespace hydra::qr

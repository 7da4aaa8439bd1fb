#include "queue-runner/substitution.hh"

#include <algorithm>

namespace hydra::qr {

namespace {

/// The output paths of the derivations of one level, together.
std::set<std::string> levelOutputs(const Discovery& d, const std::vector<std::string>& level)
{
    std::set<std::string> all;
    for (const auto& drvPath : level)
        for (const auto& [name, path] : outputPaths(d.derivations.at(drvPath))) all.insert(path);
    return all;
}

/// Records the outputs of `drvPath` fetched now; false if one of them is still missing (or
/// the derivation has no known output paths), so it has to be built.
bool recordIfFetched(const Discovery& d, const std::string& drvPath, const std::set<std::string>& before,
                     const std::set<std::string>& after, int64_t start, int64_t stop,
                     std::vector<SubstitutedOutput>& out)
{
    auto outputs = outputPaths(d.derivations.at(drvPath));
    if (outputs.empty()) return false;
    for (const auto& [name, path] : outputs)
        if (!before.contains(path) && !after.contains(path)) return false;
    for (const auto& [name, path] : outputs)
        if (!before.contains(path))
            out.push_back(
                {.drvPath = drvPath, .name = name, .path = path, .startTime = start, .stopTime = stop});
    return true;
}

} // namespace

SubstitutionResult substituteDerivations(const Discovery& d, const std::string& topDrv,
                                         const SubstitutionStore& store, const Clock& clock,
                                         const std::stop_token& stop)
{
    SubstitutionResult result;
    if (!d.derivations.contains(topDrv)) return result;
    std::set<std::string> seen{topDrv};
    std::vector<std::string> level{topDrv};
    while (!level.empty() && !stop.stop_requested()) {
        std::set<std::string> before;
        std::set<std::string> after;
        auto start = clock.unixTime();
        try {
            auto wanted = levelOutputs(d, level);
            before = store.valid(wanted);
            std::set<std::string> missing;
            std::ranges::set_difference(wanted, before, std::inserter(missing, missing.end()));
            if (!missing.empty()) after = store.substitute(missing);
        } catch (const std::exception& e) {
            result.error = e.what();
            break;
        }
        auto end = clock.unixTime();
        std::vector<std::string> next;
        for (const auto& drvPath : level) {
            if (recordIfFetched(d, drvPath, before, after, start, end, result.outputs)) continue;
            for (const auto& [input, names] : d.derivations.at(drvPath).inputDrvs)
                if (d.derivations.contains(input) && seen.insert(input).second) next.push_back(input);
        }
        level = std::move(next);
    }
    return result;
}

} // namespace hydra::qr

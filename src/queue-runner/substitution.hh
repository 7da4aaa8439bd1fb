#pragma once
// Substitution planning (use-substitutes): which of a build's missing derivations can be fetched
// from the substituters instead of being built. Pure logic over an injected store.

#include "queue-runner/step_discovery.hh"
#include "util/clock.hh"

#include <cstdint>
#include <functional>
#include <set>
#include <stop_token>
#include <string>
#include <vector>

namespace hydra::qr {

/// One output of a derivation fetched instead of built: a substitution step (BuildSteps type 1).
struct SubstitutedOutput {
    std::string drvPath;
    std::string name;
    std::string path;
    int64_t startTime = 0;
    int64_t stopTime = 0;
};

/// The store as substitution sees it.
struct SubstitutionStore {
    /// The subset of the paths that is valid now.
    std::function<std::set<std::string>(const std::set<std::string>&)> valid;
    /// Tries to fetch the paths; returns the subset valid afterwards.
    std::function<std::set<std::string>(const std::set<std::string>&)> substitute;
};

/// What trying a build's derivations from the substituters gave.
struct SubstitutionResult {
    std::vector<SubstitutedOutput> outputs; ///< every output fetched, one step each
    std::string error;                      ///< why it stopped early ("" when it did not)
};

/// Tries the derivations of `d` from the top (`topDrv`) down, a level at a time, as Hydra's
/// queue monitor does: a derivation whose missing outputs can all be fetched is substituted
/// and its inputs need not be looked at; one that cannot is left to be built and its inputs
/// are tried next. Outputs valid before the attempt are not recorded (somebody else made
/// them). An error of the store ends the attempt: what was fetched so far stays recorded and
/// the rest is built.
SubstitutionResult substituteDerivations(const Discovery& d, const std::string& topDrv,
                                         const SubstitutionStore& store, const Clock& clock,
                                         const std::stop_token& stop);

} // namespace hydra::qr

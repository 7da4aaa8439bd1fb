#pragma once
// StepDiscovery: which derivations of a build still have to be built.

#include "nix/derivation.hh"
#include "queue-runner/step_graph.hh"
#include "util/error.hh"

#include <exception>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace hydra::qr {

/// A .drv file the build needs is not in the store (garbage-collected, or never there).
class MissingDerivation : public Error {
public:
    using Error::Error;
};

/// Answers which of the given store paths are valid in the queue runner's store.
using ValidityQuery = std::function<std::set<std::string>(const std::set<std::string>&)>;

/// The derivations of one build whose outputs are missing, as steps for the scheduler.
struct Discovery {
    /// Every derivation to build, dependencies before dependents; empty when the top-level
    /// outputs are all valid (a cached success).
    std::vector<StepSpec> steps;
    /// The parsed derivations of `steps`, by .drv path.
    std::map<std::string, nix::Derivation> derivations;
    /// The top-level derivation when nothing is to be built (a cached success); otherwise it
    /// is among `derivations` (not copied here: loading 200,000 builds, copies add up).
    nix::Derivation topLevel;
    /// Inputs not walked because the queue had them as steps: their dependents rely on the
    /// graph to link them, so the discovery is stale once one of them has left it.
    std::set<std::string> knownInputs;
};

/// One build's discovery, or why there is none.
struct DiscoveryOutcome {
    Discovery discovery;
    /// Set when a .drv of the build could not be read: MissingDerivation for one not in the
    /// store, hydra::Error for one that is malformed.
    std::exception_ptr error;
};

/// Walks a build's derivation closure from its top-level .drv, reading .drv files from the
/// local store and stopping at derivations whose outputs are all valid or that the scheduler
/// already has (`known`): their dependents list them as inputs and the graph links them.
class StepDiscovery {
public:
    explicit StepDiscovery(ValidityQuery valid) : valid_(std::move(valid)) {}

    /// Throws MissingDerivation naming a .drv that is not in the store, hydra::Error for one
    /// that is malformed, and whatever the validity query throws.
    Discovery discover(const std::string& topDrv, const std::function<bool(const std::string&)>& known) const;

    /// The discoveries of many builds (a page of the queue), one per top-level .drv in that
    /// order: each .drv file is read once and validity is asked once per level of the walk for
    /// all builds together, not once per derivation. Throws what the validity query throws.
    std::vector<DiscoveryOutcome> discoverAll(const std::vector<std::string>& topDrvs,
                                              const std::function<bool(const std::string&)>& known) const;

private:
    ValidityQuery valid_;
};

/// The output paths of a derivation, by output name (outputs without a known path left out).
std::map<std::string, std::string> outputPaths(const nix::Derivation& drv);

} // namespace hydra::qr

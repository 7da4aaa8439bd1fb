#pragma once
// LocalSystem: what this machine's Nix builds (system types, max-jobs, features), queried once
// at start-up so that `localhost` can serve it when no machines file is configured.

#include <set>
#include <string>
#include <string_view>

namespace hydra::qr {

/// The local Nix settings that make up the default `localhost` machine.
struct LocalSystem {
    std::string system;                   ///< Nix's `system`, e.g. x86_64-linux
    std::set<std::string> extraPlatforms; ///< Nix's `extra-platforms`
    unsigned maxJobs = 1;                 ///< Nix's `max-jobs` (at least 1)
    std::set<std::string> systemFeatures; ///< Nix's `system-features`

    bool operator==(const LocalSystem&) const = default;
};

/// Reads the settings from the JSON that `nix show-config --json` prints. Throws hydra::Error
/// naming the setting at fault if `system` is missing or a value has the wrong type.
LocalSystem parseNixConfigJson(std::string_view json);

/// Asks the installed Nix (`nix show-config --json`; if that fails, `nix-instantiate --eval`
/// for the system alone). Runs child processes: call once at start-up, not from tests of logic.
/// Throws hydra::Error if neither works.
LocalSystem detectLocalSystem();

} // namespace hydra::qr

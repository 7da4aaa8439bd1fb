#pragma once
// Flake jobsets: the locked reference of a flake, from `nix flake metadata --json`.

#include <string>

namespace hydra::evaluator {

/// The locked URL in `nix flake metadata --json` output: "url" (Nix 2.8 prints the locked
/// reference there, with narHash/rev), else "lockedUrl", else "resolvedUrl". Throws Error when
/// the output is not JSON or has none of them.
std::string lockedFlakeUrl(const std::string& metadataJson);

} // namespace hydra::evaluator

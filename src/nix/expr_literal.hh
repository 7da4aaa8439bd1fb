#pragma once
// Nix expression literals, for the expressions hydra writes and hands to Nix.

#include <string>
#include <string_view>

namespace hydra::nix {

/// A Nix string literal holding `s` exactly ("${" does not start an antiquotation).
std::string nixStringLiteral(std::string_view s);

} // namespace hydra::nix

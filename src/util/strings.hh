#pragma once
// Small string helpers shared by every layer.

#include <string>
#include <string_view>

namespace hydra {

/// Folds newlines, tabs and runs of spaces into single spaces and trims the end, so that a
/// multi-line message from a library (libpq, ssh) fits the one-line-per-event log.
std::string oneLine(std::string_view s);

/// `s` without leading and trailing white space.
std::string_view trim(std::string_view s);

} // namespace hydra

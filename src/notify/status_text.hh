#pragma once
// showStatus: a build status in the words Hydra's notifications use.

#include <string>

namespace hydra::notify {

/// Hydra's short wording of a build status (its showStatus): "Success", "Failed",
/// "Dependency failed", "Cancelled", "Failed with output".
std::string showStatus(int buildStatus);

} // namespace hydra::notify

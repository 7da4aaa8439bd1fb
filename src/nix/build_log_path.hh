#pragma once
// Where Hydra keeps a derivation's build log: $HYDRA_DATA/build-logs/<first 2 chars of the .drv
// base name>/<the rest>. Shared by the queue runner (which writes logs) and the web server
// (which reads them), so that both agree on the layout without depending on each other.

#include <filesystem>
#include <string_view>

namespace hydra::nix {

/// Where the build logs of the installation with state directory `dataDir` are: its
/// build-logs folder, as in Hydra (the queue runner writes there, the server and CLI read).
std::filesystem::path buildLogDir(const std::filesystem::path& dataDir);

/// `logDir`/<first 2 chars of the .drv base name>/<the rest>. Throws Error naming `drvPath`
/// when it is not a store path.
std::filesystem::path buildLogPath(const std::filesystem::path& logDir, std::string_view drvPath);

/// The same from a base name alone ("<hash>-<name>.drv", as in /log/<name>). Throws Error unless
/// it is a valid store path base name (so it can never name a file outside `logDir`).
std::filesystem::path buildLogPathOfBaseName(const std::filesystem::path& logDir, std::string_view baseName);

} // namespace hydra::nix

#pragma once
// Rows and files behind the log and download routes: build logs where the queue runner writes
// them, running steps, build products, and real store paths to serve.

#include <cstdint>
#include <filesystem>
#include <pqxx/pqxx>
#include <string>

namespace hydra::test {

/// Writes `text` as the log of `drvPath` under `logDir` (HYDRA_DATA/build-logs); returns its path.
std::filesystem::path writeBuildLog(const std::filesystem::path& logDir, const std::string& drvPath,
                                    const std::string& text);

/// A running build step (busy, no status) of `build`.
void runningStep(pqxx::connection& c, int64_t build, int stepNr, const std::string& drvPath);

/// A product of `build`.
struct ProductSpec {
    int nr = 1;
    std::string type = "file", subtype = "", name, path, defaultPath;
};
void buildProduct(pqxx::connection& c, int64_t build, const ProductSpec& p);

/// Adds `path` (a file or directory) to the Nix store with `nix-store --add`; returns the store path.
std::string addToStore(const std::filesystem::path& path);

/// `nix-store --dump` of a store path.
std::string dumpNar(const std::string& storePath);

/// A fresh .drv path that exists nowhere (its log is all a test needs).
std::string fakeDrvPath(const std::string& name);

} // namespace hydra::test

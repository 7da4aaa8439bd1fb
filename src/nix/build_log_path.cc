#include "nix/build_log_path.hh"

#include "nix/store_path.hh"

#include <string>

namespace hydra::nix {

namespace {

std::filesystem::path inBuckets(const std::filesystem::path& logDir, std::string_view base)
{
    auto b = std::string(base);
    return logDir / b.substr(0, 2) / b.substr(2);
}

} // namespace

std::filesystem::path buildLogDir(const std::filesystem::path& dataDir)
{
    return dataDir / "build-logs";
}

std::filesystem::path buildLogPath(const std::filesystem::path& logDir, std::string_view drvPath)
{
    return inBuckets(logDir, StorePath::parse(drvPath).baseName());
}

std::filesystem::path buildLogPathOfBaseName(const std::filesystem::path& logDir, std::string_view baseName)
{
    return inBuckets(logDir, StorePath::fromBaseName(baseName).baseName());
}

} // namespace hydra::nix

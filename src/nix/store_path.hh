#pragma once
// StorePath: a validated `<storeDir>/<32 base-32 chars>-<name>` path.

#include <compare>
#include <string>
#include <string_view>
#include <utility>

namespace hydra::nix {

/// The store directory Nix uses unless configured otherwise.
inline constexpr std::string_view defaultStoreDir = "/nix/store";

/// A store path, checked with Nix's rules (hash part, name characters, name length).
class StorePath {
public:
    static constexpr std::size_t hashLen = 32;
    static constexpr std::size_t maxNameLen = 211;

    /// Parses a full path such as "/nix/store/<hash>-hello-2.12". Throws hydra::Error naming
    /// `path` unless it lies directly in `storeDir` and its base name is valid.
    static StorePath parse(std::string_view path, std::string_view storeDir = defaultStoreDir);
    /// Parses a base name "<hash>-<name>" (no directory), as store paths travel in some messages.
    static StorePath fromBaseName(std::string_view baseName, std::string_view storeDir = defaultStoreDir);
    /// True if parse() would succeed.
    static bool isValid(std::string_view path, std::string_view storeDir = defaultStoreDir);

    /// The 32-character base-32 hash part.
    std::string_view hashPart() const { return std::string_view(baseName_).substr(0, hashLen); }
    /// The name after the dash, e.g. "hello-2.12" or "hello-2.12.drv".
    std::string_view name() const { return std::string_view(baseName_).substr(hashLen + 1); }
    std::string_view baseName() const { return baseName_; }
    std::string_view storeDir() const { return storeDir_; }
    /// The full path: storeDir + "/" + baseName.
    std::string toString() const;
    /// True for derivation files (name ends in ".drv").
    bool isDerivation() const;

    auto operator<=>(const StorePath&) const = default;

private:
    StorePath(std::string storeDir, std::string baseName)
        : storeDir_(std::move(storeDir)), baseName_(std::move(baseName))
    {}
    std::string storeDir_;
    std::string baseName_;
};

/// Throws hydra::Error naming `name` (and `context`, the full path) if Nix would reject it as
/// the name part of a store path.
void checkStorePathName(std::string_view name, std::string_view context);

} // namespace hydra::nix

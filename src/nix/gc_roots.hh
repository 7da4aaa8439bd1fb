#pragma once
// Garbage-collector roots for what Hydra records (queued .drv files, built outputs), so that a
// nix-collect-garbage never removes what a build points to.

#include "util/hydra_config.hh"

#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace hydra::nix {

/// Hydra's default roots directory: <nix state dir>/gcroots/per-user/<user>/hydra-roots, the
/// state dir being $NIX_STATE_DIR or /nix/var/nix and the user $LOGNAME (else $USER, else the
/// account of this process).
std::filesystem::path defaultGcRootsDir(const EnvLookup& env = systemEnv);

/// gc_roots_dir from hydra.conf, else defaultGcRootsDir().
std::filesystem::path gcRootsDir(const QueueRunnerConfig& config, const EnvLookup& env = systemEnv);

/// One root of a roots directory: the base name of the store path it keeps, and when it was made.
struct GcRootEntry {
    std::string baseName;
    std::chrono::system_clock::time_point madeAt;
};

/// A roots directory: each root is a symlink named by the store path's base name, pointing at it
/// (Nix follows symlinks found under its gcroots directory).
class GcRoots {
public:
    /// Creates `dir` (and its parents) if needed. Throws Error naming it.
    explicit GcRoots(std::filesystem::path dir);

    /// Registers `storePath` as a root. Atomic (a temporary link renamed into place) and
    /// idempotent. Throws Error naming the path for a non-store path or a failed link.
    void add(std::string_view storePath) const;
    /// Every root now in the directory (add()'s temporary links left out).
    std::vector<GcRootEntry> list() const;
    /// Removes the root named `baseName`; one that is gone already is no error.
    void remove(std::string_view baseName) const;
    /// The root add() creates for `storePath`.
    std::filesystem::path rootFor(std::string_view storePath) const;
    const std::filesystem::path& dir() const { return dir_; }

private:
    std::filesystem::path dir_;
};

} // namespace hydra::nix

#pragma once
// NAR (Nix ARchive): a streaming, validating reader and a canonical writer for filesystem trees.

#include "nix/wire.hh"

#include <cstdint>
#include <string>
#include <string_view>

namespace hydra::nix {

/// The first string of every NAR.
constexpr std::string_view narMagic = "nix-archive-1";

/// Receives the entries of a NAR in archive order. `path` is relative to the archive root:
/// "" for the root itself, "dir/file" below it. Every method defaults to ignoring the entry.
class NarVisitor {
public:
    virtual ~NarVisitor() = default;
    virtual void directory(const std::string& path) { (void) path; }
    /// A regular file begins; its `size` bytes arrive through fileData, then fileEnd.
    virtual void fileStart(const std::string& path, bool executable, uint64_t size)
    {
        (void) path, (void) executable, (void) size;
    }
    virtual void fileData(std::string_view chunk) { (void) chunk; }
    virtual void fileEnd() {}
    virtual void symlink(const std::string& path, const std::string& target) { (void) path, (void) target; }
};

/// Bounds on what a NAR may contain, so hostile input cannot exhaust the stack or memory.
struct NarLimits {
    size_t maxDepth = 256;           ///< directories nested below the root
    uint64_t maxNameLength = 4096;   ///< one entry name
    uint64_t maxTargetLength = 4096; ///< one symlink target
};

/// Reads exactly one NAR from `in`, validating it (magic, structure, entries sorted and unique,
/// names without '/', NUL, "." or "..", bounded depth, zero padding) and reporting it to
/// `visitor`. File contents are streamed in chunks, never held whole. Throws Error naming the
/// source and the entry at fault.
void parseNar(Source& in, NarVisitor& visitor, const NarLimits& limits = {});

/// Forwards exactly one NAR from `in` to `out` byte for byte, validating it on the way.
void copyNar(Source& in, Sink& out, const NarLimits& limits = {});

/// Writes the filesystem object at `fsPath` as a NAR in Nix's canonical form (entries sorted,
/// "executable" when the owner may execute), streaming file contents.
void dumpPath(const std::string& fsPath, Sink& out);

} // namespace hydra::nix

#pragma once
// Copying closures of store paths between two stores, each reached through a serve session:
// from the local store to a build machine (inputs) and back (outputs).
//
// The local store is reached the same way as a remote one: through a local
// `nix-store --serve --write` session (QueryClosure, QueryPathInfos, DumpStorePath to read;
// ImportPaths to write). So both directions are the same code, and every NAR sent is Nix's own
// serialisation of the path, streamed chunk by chunk and never held whole. Writing into the
// local store this way needs the rights of `nix-store --import` (root, or a trusted user of
// the daemon): a builder that shares the queue runner's store needs no copying at all.

#include "nix/machine_connection.hh"
#include "nix/serve_protocol.hh"

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace hydra::nix {

/// What one copy sent: the paths in the order they went, and the bytes of their NARs.
struct CopyStats {
    std::vector<std::string> paths;
    uint64_t narBytes = 0;
};

/// Lends open sessions with the local store, so that copies do not start a nix-store each.
class LocalStoreSessions {
public:
    virtual ~LocalStoreSessions() = default;
    /// An open `nix-store --serve --write` session with the local store.
    virtual MachineConnection take() = 0;
    /// Takes back a session whose last command completed.
    virtual void giveBack(MachineConnection&& conn) = 0;
};

/// How to copy.
struct CopyOptions {
    /// Let the destination substitute missing paths before anything is sent. Downloads can
    /// hang for long: a caller holding a per-machine send lock calls substituteMissing()
    /// before taking the lock and leaves this off.
    bool substitute = false;
    /// How to start the local `nix-store --serve --write` (copyClosureTo/From only).
    ConnectionOptions local;
    /// Where local sessions come from instead, if set (copyClosureTo/From only).
    LocalStoreSessions* sessions = nullptr;
};

/// The closure of `paths` in the store behind `src` (every path they reference, directly or
/// not, and themselves).
std::set<std::string> closureOf(serve::ServeClient& src, const std::set<std::string>& paths);

/// The paths among `paths` that the store behind `dest` does not have (no locks taken).
std::set<std::string> missingPaths(serve::ServeClient& dest, const std::set<std::string>& paths,
                                   bool substitute = false);

/// Lets `dest` substitute what it can of `paths` from its own caches; returns what is still
/// missing. Slow when caches are slow: call it outside any per-machine send lock.
std::set<std::string> substituteMissing(serve::ServeClient& dest, const std::set<std::string>& paths);

/// Orders `infos` so that every path comes after the paths it references among them
/// (references to other paths, and to itself, impose nothing). Ties keep path order, so the
/// result is deterministic. Throws Error naming a path of a reference cycle.
std::vector<serve::PathInfo> referencesFirst(const std::vector<serve::PathInfo>& infos);

/// Sends `ordered` (see referencesFirst) from `src` to `dest` in one ImportPaths export stream,
/// each NAR streamed from src's DumpStorePath. Sends nothing at all when `ordered` is empty.
CopyStats sendPaths(serve::ServeClient& src, serve::ServeClient& dest,
                    const std::vector<serve::PathInfo>& ordered);

/// Copies the closure of `paths` from `src` to `dest`, sending only what `dest` lacks,
/// references before referrers.
CopyStats copyClosure(serve::ServeClient& src, serve::ServeClient& dest, const std::set<std::string>& paths,
                      bool substitute = false);

/// copyClosure from the local store to `dest` (a build machine's inputs).
CopyStats copyClosureTo(serve::ServeClient& dest, const std::set<std::string>& paths,
                        const CopyOptions& opts = {});

/// closureOf `paths` in the local store, through a session of opts (`local` or `sessions`).
std::set<std::string> localClosureOf(const std::set<std::string>& paths, const CopyOptions& opts = {});

/// copyClosure from `src` into the local store (a build's outputs).
CopyStats copyClosureFrom(serve::ServeClient& src, const std::set<std::string>& paths,
                          const CopyOptions& opts = {});

} // namespace hydra::nix

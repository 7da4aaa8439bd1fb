#pragma once
// Git inputs: a shared bare-repository cache per URI, fetched under a lock, and the tree of one
// commit copied into the Nix store.

#include <chrono>
#include <filesystem>
#include <optional>
#include <stop_token>
#include <string>

namespace hydra::evaluator {

/// What a git input's value ("URI [BRANCH [DEEPCLONE]]") and alternative ask for.
struct GitSource {
    std::string uri;
    std::string branch;                  ///< empty: the remote's HEAD
    std::optional<std::string> revision; ///< pinned commit (full or abbreviated hash)
    bool deepClone = false;              ///< the checkout keeps .git with the commit's history
};

/// Parses "URI [BRANCH [DEEPCLONE]]"; throws Error on an empty value. As in Hydra, a BRANCH of
/// 40 lower-case hex digits is the commit to check out (on whichever branch it is).
GitSource parseGitValue(const std::string& value);

/// One commit of a git input, copied into the store.
struct GitCheckout {
    std::string revision; ///< full commit hash
    long revCount = 0;    ///< commits reachable from it
    std::string gitTag;   ///< `git describe --always` of it, as Hydra gives (annotated tags only)
    std::string storePath;
    std::string sha256; ///< NAR hash of storePath, Nix base-32
};

/// Fetches `src` into the cache under `cacheRoot` (one bare repository per URI, named by the
/// SHA-256 of the URI) and copies the commit's tree into the store as ".../<hash>-source".
/// Each git command may take `timeout`; a stop request kills it. Throws Error "git fetch
/// failed: <git's error>" and the like (TimeoutError, CommandInterrupted).
GitCheckout fetchGit(const GitSource& src, const std::filesystem::path& cacheRoot,
                     std::chrono::seconds timeout, const std::stop_token& stop);

} // namespace hydra::evaluator

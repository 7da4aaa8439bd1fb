#pragma once
// NixStoreDb: read-only access to the local Nix store's own database (db.sqlite), for serving
// the store as a binary cache without starting a Nix process per request.

#include "util/sync.hh"

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

struct sqlite3;

namespace hydra::nix {

/// What Nix records about one valid store path.
struct StorePathInfo {
    std::string path;
    std::string narHash; ///< as Nix stores it: "sha256:<base16>"
    uint64_t narSize = 0;
    std::optional<std::string> deriver;
    std::vector<std::string> references; ///< full paths, sorted
    std::vector<std::string> sigs;
    std::optional<std::string> ca;
};

/// A read-only connection to Nix's SQLite database (`$NIX_STATE_DIR/db/db.sqlite`, by default
/// /nix/var/nix/db/db.sqlite). Queries are short and serialised on one connection; SQLite's
/// WAL mode lets them run while Nix writes.
class NixStoreDb {
public:
    /// Opens the database; throws hydra::Error naming the file when it cannot be read.
    explicit NixStoreDb(std::string dbFile, std::string storeDir = "/nix/store");
    ~NixStoreDb();
    NixStoreDb(const NixStoreDb&) = delete;
    NixStoreDb& operator=(const NixStoreDb&) = delete;

    /// The database file of the local store, as Nix locates it (NIX_STATE_DIR).
    static std::string defaultFile();

    /// Those of `paths` that are valid: one lookup each on one connection, no Nix process.
    std::set<std::string> validPaths(const std::set<std::string>& paths);

    /// The valid path whose hash part is `hashPart` (32 base-32 characters), if any.
    std::optional<std::string> pathFromHashPart(const std::string& hashPart);

    /// The record of a valid path, if it is valid.
    std::optional<StorePathInfo> pathInfo(const std::string& path);

    /// The derivations `drvPath` needs that are not built: itself and, transitively, its input
    /// derivations with an output missing from the store (a built input's own inputs are not
    /// looked at). At most `limit` of them, in no particular order.
    std::vector<std::string> unbuiltDerivations(const std::string& drvPath, size_t limit);

    const std::string& storeDir() const { return storeDir_; }

private:
    std::string file_, storeDir_;
    Sync<sqlite3*> db_;
};

} // namespace hydra::nix

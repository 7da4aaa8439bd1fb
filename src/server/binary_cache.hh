#pragma once
// BinaryCache: the local Nix store as a binary cache — narinfo files (signed when a key is
// set) and the paths they describe — read from Nix's own database, never from PostgreSQL.

#include "nix/signing.hh"
#include "server/store_database.hh"

#include <memory>
#include <optional>
#include <string>

namespace hydra::server {

/// One per server; thread-safe.
class BinaryCache {
public:
    /// `key` may be null (narinfo unsigned).
    BinaryCache(const StoreDatabase& store, std::shared_ptr<const nix::SigningKey> key);

    /// The valid store path with this hash part, if any. Throws HttpError 503 when the store
    /// database cannot be read.
    std::optional<std::string> pathOf(const std::string& hashPart) const;

    /// The narinfo of the valid path with this hash part, pointing at `narUrl`.
    std::optional<std::string> narInfo(const std::string& hashPart, const std::string& narUrl,
                                       std::string_view compression) const;

    const std::string& storeDir() const { return store_.storeDir(); }

private:
    const StoreDatabase& store_;
    std::shared_ptr<const nix::SigningKey> key_;
};

/// A store path's hash part: exactly 32 characters of Nix's base-32 alphabet.
bool isHashPart(std::string_view s);

} // namespace hydra::server

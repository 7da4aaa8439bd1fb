#pragma once
// BinaryCache: a file:// Nix binary cache in a temporary directory, for substitution tests.

#include <map>
#include <string>

namespace hydra::test {

/// A binary cache that `nix copy` fills and a Nix configured with nixConfig() substitutes from.
class BinaryCache {
public:
    BinaryCache();
    ~BinaryCache();
    BinaryCache(const BinaryCache&) = delete;
    BinaryCache& operator=(const BinaryCache&) = delete;

    /// file:///<dir>
    std::string uri() const;
    /// Copies `path` and its closure from the local store into the cache; throws naming it.
    void add(const std::string& path) const;
    /// NIX_CONFIG for a Nix that substitutes from this cache alone, unsigned paths accepted.
    std::string nixConfig() const;

private:
    std::string dir_;
};

/// Deletes `path` from the local store (it must have no referrers and no roots); throws
/// naming it if it is still valid afterwards.
void deleteFromStore(const std::string& path);

} // namespace hydra::test

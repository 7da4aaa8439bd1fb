#pragma once
// StoreDatabase: the local Nix store's own database, opened at first use and shared by the
// server's requests (the binary cache, a build's waiting steps).

#include "nix/store_db.hh"
#include "util/sync.hh"

#include <memory>
#include <string>

namespace hydra::server {

/// One per server; thread-safe. A server on a machine without Nix serves its pages anyway.
class StoreDatabase {
public:
    StoreDatabase(std::string file, std::string storeDir);

    /// The open database. Throws HttpError 503 (and logs why) when it cannot be read.
    nix::NixStoreDb& get() const;

    const std::string& storeDir() const { return storeDir_; }

private:
    std::string file_, storeDir_;
    mutable Sync<std::unique_ptr<nix::NixStoreDb>> db_;
};

} // namespace hydra::server

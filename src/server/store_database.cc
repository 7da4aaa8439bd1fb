#include "server/store_database.hh"

#include "server/http.hh"
#include "util/logging.hh"
#include "util/strings.hh"

namespace hydra::server {

StoreDatabase::StoreDatabase(std::string file, std::string storeDir)
    : file_(std::move(file)), storeDir_(std::move(storeDir))
{}

nix::NixStoreDb& StoreDatabase::get() const
{
    auto db = db_.lock();
    if (!*db) {
        try {
            *db = std::make_unique<nix::NixStoreDb>(file_, storeDir_);
        } catch (const std::exception& e) {
            log::error("cannot read the Nix store's database: {}", oneLine(e.what()));
            throw HttpError(503, "the server cannot read the Nix store's database; see the server's log");
        }
    }
    return **db;
}

} // namespace hydra::server

#include "server/binary_cache.hh"

#include "nix/narinfo.hh"
#include "server/http.hh"
#include "util/logging.hh"
#include "util/strings.hh"

namespace hydra::server {

bool isHashPart(std::string_view s)
{
    // Nix's base-32 digits: no e, o, u or t.
    static constexpr std::string_view digits = "0123456789abcdfghijklmnpqrsvwxyz";
    return s.size() == 32 && s.find_first_not_of(digits) == std::string_view::npos;
}

BinaryCache::BinaryCache(std::string storeDbFile, std::string storeDir,
                         std::shared_ptr<const nix::SigningKey> key)
    : file_(std::move(storeDbFile)), storeDir_(std::move(storeDir)), key_(std::move(key))
{}

nix::NixStoreDb& BinaryCache::db() const
{
    auto db = db_.lock();
    if (!*db) {
        try {
            *db = std::make_unique<nix::NixStoreDb>(file_, storeDir_);
        } catch (const std::exception& e) {
            log::error("binary cache: {}", oneLine(e.what()));
            throw HttpError(503,
                            "the binary cache cannot read the Nix store's database; see the server's log");
        }
    }
    return **db;
}

std::optional<std::string> BinaryCache::pathOf(const std::string& hashPart) const
{
    return db().pathFromHashPart(hashPart);
}

std::optional<std::string> BinaryCache::narInfo(const std::string& hashPart, const std::string& narUrl,
                                                std::string_view compression) const
{
    auto path = pathOf(hashPart);
    if (!path) return std::nullopt;
    auto info = db().pathInfo(*path);
    if (!info) return std::nullopt;
    return nix::renderNarInfo(*info, narUrl, compression, key_.get());
}

} // namespace hydra::server

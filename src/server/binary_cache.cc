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

BinaryCache::BinaryCache(const StoreDatabase& store, std::shared_ptr<const nix::SigningKey> key)
    : store_(store), key_(std::move(key))
{}

std::optional<std::string> BinaryCache::pathOf(const std::string& hashPart) const
{
    return store_.get().pathFromHashPart(hashPart);
}

std::optional<std::string> BinaryCache::narInfo(const std::string& hashPart, const std::string& narUrl,
                                                std::string_view compression) const
{
    auto path = pathOf(hashPart);
    if (!path) return std::nullopt;
    auto info = store_.get().pathInfo(*path);
    if (!info) return std::nullopt;
    return nix::renderNarInfo(*info, narUrl, compression, key_.get());
}

} // namespace hydra::server

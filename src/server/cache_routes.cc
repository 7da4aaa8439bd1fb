#include "server/cache_routes.hh"

#include "server/binary_cache.hh"
#include "server/nar_stream.hh"
#include "server/site.hh"

#include <charconv>

namespace hydra::server {

namespace {

// As Hydra: a path that is missing now may be built later, so 404s are not kept for long;
// a narinfo does not change while its path is valid.
constexpr const char* missingCacheControl = "public, max-age=3600";
constexpr const char* narInfoCacheControl = "public, max-age=86400";

Response plain(std::string body, const char* type, int status = 200)
{
    Response r;
    r.status = status;
    r.contentType = type;
    r.body = std::move(body);
    return r;
}

Response missing(const std::string& what)
{
    auto r = plain(what + " is not in this binary cache\n", "text/plain; charset=utf-8", 404);
    r.headers.emplace_back("Cache-Control", missingCacheControl);
    return r;
}

// Nix before 2.4 cannot read zstd: its User-Agent ("curl/8.0 Nix/2.3.17") gets xz.
NarCompression compressionFor(const Request& req)
{
    auto agent = req.header("user-agent");
    auto at = agent.find("Nix/");
    if (at == std::string::npos) return NarCompression::Zstd;
    const char* p = agent.data() + at + 4;
    const char* end = agent.data() + agent.size();
    int major = 0, minor = 0;
    auto r1 = std::from_chars(p, end, major);
    if (r1.ec != std::errc() || r1.ptr == end || *r1.ptr != '.') return NarCompression::Zstd;
    std::from_chars(r1.ptr + 1, end, minor);
    return major < 2 || (major == 2 && minor < 4) ? NarCompression::Xz : NarCompression::Zstd;
}

} // namespace

Response nixCacheInfo(const Site& site, const Request&)
{
    return plain("StoreDir: " + site.binaryCache().storeDir() + "\nWantMassQuery: 0\nPriority: 100\n",
                 "text/x-nix-cache-info");
}

Response narInfoFile(const Site& site, const Request& req)
{
    const auto& file = req.param("file");
    if (!file.ends_with(".narinfo")) throw HttpError(404, "there is no page at " + req.path);
    auto hashPart = file.substr(0, file.size() - 8);
    if (!isHashPart(hashPart)) throw HttpError(400, "‘" + file + "’ does not name a store path's hash");
    auto c = compressionFor(req);
    auto info = site.binaryCache().narInfo(
        hashPart, "nar/" + hashPart + ".nar" + std::string(compressionExtension(c)), compressionName(c));
    if (!info) return missing(site.binaryCache().storeDir() + "/" + hashPart);
    auto r = plain(std::move(*info), "text/x-nix-narinfo");
    r.headers.emplace_back("Cache-Control", narInfoCacheControl);
    return r;
}

Response narFile(const Site& site, const Request& req)
{
    const auto& file = req.param("file");
    auto dot = file.find('.');
    auto hashPart = file.substr(0, dot);
    auto ext = dot == std::string::npos ? std::string() : file.substr(dot);
    NarCompression c;
    if (ext == ".nar.zst")
        c = NarCompression::Zstd;
    else if (ext == ".nar.xz")
        c = NarCompression::Xz;
    else if (ext == ".nar")
        c = NarCompression::None;
    else
        throw HttpError(404, "‘" + file + "’ is not HASH.nar, HASH.nar.zst or HASH.nar.xz");
    if (!isHashPart(hashPart)) throw HttpError(400, "‘" + file + "’ does not name a store path's hash");
    auto path = site.binaryCache().pathOf(hashPart);
    if (!path) return missing(site.binaryCache().storeDir() + "/" + hashPart);
    Response r;
    r.contentType = "application/x-nix-nar";
    r.stream = [path = *path, c](const BodyWriter& out) { streamNar(path, c, out); };
    return r;
}

} // namespace hydra::server

#pragma once
// The binary cache routes: /nix-cache-info, /HASH.narinfo and /nar/HASH.nar[.zst|.xz].

#include "server/http.hh"

namespace hydra::server {

class Site;

Response nixCacheInfo(const Site& site, const Request& req);
/// /:file — a narinfo for "HASH.narinfo", else 404 (it is the last route of the table).
Response narInfoFile(const Site& site, const Request& req);
Response narFile(const Site& site, const Request& req);

} // namespace hydra::server

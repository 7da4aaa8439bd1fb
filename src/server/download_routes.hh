#pragma once
// Handlers of a build's files: /build/ID/download/N[/NAME[/path]] (a build product) and
// /build/ID/output/NAME (an output as a NAR).

#include "server/router.hh"

namespace hydra::server {

/// A product's file, streamed. Without a path it redirects, as Hydra does, to
/// .../N/NAME[/DEFAULTPATH]; the first segment after N is the product's name, when it has one.
Response buildDownload(const Site& site, const Request& req);
/// The output as a NAR, streamed from `nix-store --dump`.
Response buildOutputNar(const Site& site, const Request& req);

} // namespace hydra::server

#pragma once
// Handlers of the build logs: /build/ID/log[/raw|/tail], /build/ID/step/N/log[/raw|/tail] and
// /log/DRVNAME?tail=N.

#include "server/router.hh"

namespace hydra::server {

Response buildLogPage(const Site& site, const Request& req);
Response buildLogRaw(const Site& site, const Request& req);
Response buildLogTail(const Site& site, const Request& req);
Response stepLogPage(const Site& site, const Request& req);
Response stepLogRaw(const Site& site, const Request& req);
Response stepLogTail(const Site& site, const Request& req);
/// Hydra's /log/<drv base name>: the raw log of that derivation's build step (`?tail=N` lines).
Response derivationLog(const Site& site, const Request& req);

} // namespace hydra::server

#pragma once
// The live side of the web server: the farm's events as server-sent events (/events) and the
// script of live pages.

#include "server/http.hh"

namespace hydra::server {

class Site;

/// GET /events: every farm event the server hears, as text/event-stream (event: the channel,
/// data: the payload's fields as a JSON array, id: resumable with Last-Event-ID).
Response liveEventStream(const Site& site, const Request& req);

/// GET /static/live.js.
Response liveScriptAsset(const Site& site, const Request& req);

} // namespace hydra::server

#pragma once
// The live forms of a log route: `?follow=1` (plain text, for curl -N and scripts) and
// server-sent events (for the log page, resumable with Last-Event-ID).

#include "db/web_logs.hh"
#include "server/http.hh"

#include <cstdint>
#include <string>

namespace hydra::server {

class Site;

/// True when `req` asks to follow the log as it is written rather than read it as it is now.
bool wantsFollow(const Request& req);

/// The step whose log is followed.
struct FollowTarget {
    int64_t buildId = 0;
    int stepNr = 0;
    std::string drvPath;
    std::string what; ///< "step 3 of build 12", for errors
};

/// Streams the step's log from its start (or the offset asked: Last-Event-ID, else `from`) and
/// ends when the step does: as text/plain, or as text/event-stream when the client asks for it.
Response followResponse(const Site& site, const Request& req, FollowTarget target);

/// Follows build `buildId`'s running step, or its last one, as `f` (just read) found it; a queued
/// build's stream first waits for its first step. 404 when it ended without any step.
Response followBuildResponse(const Site& site, const Request& req, int64_t buildId,
                             const db::web::FollowedStep& f);

} // namespace hydra::server

#pragma once
// Server-sent events as hydra-server writes them: the response around a live stream, its events,
// keep-alives and resume ids (Last-Event-ID), shared by /events and followed logs.

#include "server/http.hh"

#include <chrono>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace hydra::server {

/// How often a quiet stream says it lives (also how a gone client is noticed).
inline constexpr auto keepAliveEvery = std::chrono::seconds(15);
/// A comment line: keeps proxies and the browser from timing the stream out.
inline constexpr std::string_view sseKeepAlive = ": keep-alive\n\n";
/// Asks a browser to reconnect 2 s after a dropped stream (it resumes with Last-Event-ID).
inline constexpr std::string_view sseRetry = "retry: 2000\n\n";

/// True when the client asks for text/event-stream.
bool wantsEventStream(const Request& req);

/// One event; `data` may hold text that is not UTF-8 (it is replaced, as a browser would).
std::string sseEvent(std::string_view event, uint64_t id, const nlohmann::json& data);

/// A response streamed by `body` as it goes: uncompressed, uncached and unbuffered by proxies.
Response liveStreamResponse(std::string contentType, std::function<void(const BodyWriter&)> body);

/// The number a client resumes from: Last-Event-ID, else the query parameter `param` (when
/// given), else nullopt. A value that is not a number is a 400 naming where it came from.
std::optional<uint64_t> resumePoint(const Request& req, const char* param = nullptr);

} // namespace hydra::server

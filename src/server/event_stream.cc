#include "server/event_stream.hh"

#include <charconv>
#include <fmt/format.h>

namespace hydra::server {

bool wantsEventStream(const Request& req)
{
    return req.header("accept").find("text/event-stream") != std::string::npos;
}

std::string sseEvent(std::string_view event, uint64_t id, const nlohmann::json& data)
{
    return fmt::format("id: {}\nevent: {}\ndata: {}\n\n", id, event,
                       data.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

Response liveStreamResponse(std::string contentType, std::function<void(const BodyWriter&)> body)
{
    Response r;
    r.contentType = std::move(contentType);
    r.live = true;
    r.headers.emplace_back("Cache-Control", "no-cache");
    // nginx, the usual proxy in front of Hydra, holds a response back until it has a buffer full.
    r.headers.emplace_back("X-Accel-Buffering", "no");
    r.stream = std::move(body);
    return r;
}

std::optional<uint64_t> resumePoint(const Request& req, const char* param)
{
    auto value = req.header("last-event-id");
    const char* what = "Last-Event-ID";
    if (value.empty() && param) {
        auto q = req.queryValue(param);
        if (!q) return std::nullopt;
        value = *q;
        what = param;
    }
    if (value.empty()) return std::nullopt;
    uint64_t v = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
    if (ec != std::errc() || end != value.data() + value.size())
        throw HttpError(400, fmt::format("‘{}’ must be a number (where to resume), not ‘{}’", what, value));
    return v;
}

} // namespace hydra::server

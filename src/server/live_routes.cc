#include "server/live_routes.hh"

#include "server/layout.hh"
#include "server/site.hh"

#include <charconv>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace hydra::server {

namespace {

constexpr auto keepAliveEvery = std::chrono::seconds(15);

uint64_t resumeAfter(const Site& site, const Request& req)
{
    auto last = req.header("last-event-id");
    if (last.empty()) return site.live().lastSeq();
    uint64_t v = 0;
    auto [end, ec] = std::from_chars(last.data(), last.data() + last.size(), v);
    if (ec != std::errc() || end != last.data() + last.size())
        throw HttpError(400, fmt::format("Last-Event-ID must be the number of an event, not ‘{}’", last));
    return v;
}

std::string eventText(const LiveEvent& e)
{
    nlohmann::json fields = e.fields;
    return fmt::format("id: {}\nevent: {}\ndata: {}\n\n", e.seq, e.channel,
                       fields.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

} // namespace

Response liveEventStream(const Site& site, const Request& req)
{
    auto after = resumeAfter(site, req);
    Response r;
    r.contentType = "text/event-stream; charset=utf-8";
    r.live = true;
    r.headers.emplace_back("Cache-Control", "no-cache");
    r.headers.emplace_back("X-Accel-Buffering", "no");
    r.stream = [&site, after](const BodyWriter& out) mutable {
        auto& live = site.live();
        if (!out("retry: 2000\n\n")) return;
        while (!live.stopped()) {
            auto news = live.after(after, keepAliveEvery);
            std::string text;
            for (const auto& e : news) {
                text += eventText(e);
                after = e.seq;
            }
            if (!out(text.empty() ? std::string_view(": keep-alive\n\n") : text)) return;
        }
    };
    return r;
}

Response liveScriptAsset(const Site&, const Request&)
{
    Response r;
    r.contentType = "text/javascript; charset=utf-8";
    r.body = std::string(liveScript());
    r.headers.emplace_back("Cache-Control", "public, max-age=3600");
    return r;
}

} // namespace hydra::server

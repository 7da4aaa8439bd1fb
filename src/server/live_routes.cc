#include "server/live_routes.hh"

#include "server/event_stream.hh"
#include "server/layout.hh"
#include "server/site.hh"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace hydra::server {

namespace {

std::string eventText(const LiveEvent& e)
{
    return sseEvent(e.channel, e.seq, nlohmann::json(e.fields));
}

} // namespace

Response liveEventStream(const Site& site, const Request& req)
{
    auto after = resumePoint(req).value_or(site.live().lastSeq());
    return liveStreamResponse("text/event-stream; charset=utf-8",
                              [&site, after](const BodyWriter& out) mutable {
                                  auto& live = site.live();
                                  if (!out(sseRetry)) return;
                                  while (!live.stopped()) {
                                      auto news = live.after(after, keepAliveEvery);
                                      std::string text;
                                      for (const auto& e : news) {
                                          text += eventText(e);
                                          after = e.seq;
                                      }
                                      if (!out(text.empty() ? sseKeepAlive : std::string_view(text))) return;
                                  }
                              });
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

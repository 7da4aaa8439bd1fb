#include "server/log_stream.hh"

#include "db/queue_notify.hh"
#include "db/schema.hh"
#include "db/web_logs.hh"
#include "nix/build_log_path.hh"
#include "server/event_stream.hh"
#include "server/live_step_watch.hh"
#include "server/log_follow.hh"
#include "server/site.hh"
#include "util/error.hh"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <optional>

namespace hydra::server {

namespace {

using Json = nlohmann::json;

void followTo(const Site& site, const FollowTarget& target, uint64_t from, bool events, const BodyWriter& out)
{
    LogTail tail(nix::buildLogPath(site.config().logDir, target.drvPath), from);
    LiveStepWatch watch(site, target.buildId, target.stepNr);
    FollowSink sink;
    if (events) {
        sink.text = [&](std::string_view chunk, uint64_t after) {
            return out(chunk.empty() ? std::string(sseKeepAlive)
                                     : sseEvent("log", after, {{"text", std::string(chunk)}}));
        };
        sink.restart = [&] { return out(sseEvent("reset", 0, Json::object())); };
    } else {
        sink.text = [&](std::string_view chunk, uint64_t) { return chunk.empty() || out(chunk); };
        sink.restart = [&] {
            return out(fmt::format("\n[{} started again; its log follows]\n", target.what));
        };
    }
    auto end = followLog(tail, watch, sink);
    // A server that stops has not seen the step end: the stream is cut, not ended, so that a
    // browser resumes it from the server that comes back and curl reports it incomplete.
    if (site.live().stopped()) throw Error("hydra-server is stopping");
    if (end == FollowEnd::StepEnded && events) out(sseEvent("end", tail.offset(), Json::object()));
}

bool concernsBuild(const LiveEvent& e, int64_t buildId)
{
    namespace c = db::channel;
    if (e.channel == LiveEvents::resync || e.channel == c::buildsCancelled || e.channel == c::buildsDeleted)
        return true;
    if (e.channel == c::stepStarted) return e.id(0) == buildId;
    return e.channel == c::buildFinished && e.names(buildId);
}

/// Waits until the queued build starts a step; nullopt when it finished without one, the
/// client left or the server stops.
std::optional<db::web::LogStep> waitForFirstStep(const Site& site, int64_t buildId, bool events,
                                                 const BodyWriter& out)
{
    auto& live = site.live();
    auto seq = live.lastSeq();
    bool look = true;
    for (int quiet = 1;; ++quiet) {
        if (look) {
            auto f = site.read([&](auto& t) { return db::web::followedStep(t, buildId); });
            if (!f || f->step || f->buildFinished) return f ? f->step : std::nullopt;
        }
        auto news = live.after(seq, keepAliveEvery);
        if (live.stopped()) return std::nullopt;
        if (news.empty() && events && !out(sseKeepAlive)) return std::nullopt;
        // A queue runner that died sends nothing: the database is asked now and then anyway.
        look = news.empty() && quiet % 4 == 0;
        for (const auto& e : news) {
            seq = e.seq;
            look = look || concernsBuild(e, buildId);
        }
    }
}

} // namespace

bool wantsFollow(const Request& req)
{
    auto follow = req.queryValue("follow");
    return (follow && *follow != "0") || wantsEventStream(req);
}

namespace {

Response followStream(const Request& req,
                      std::function<void(const BodyWriter&, uint64_t from, bool events)> body)
{
    bool events = wantsEventStream(req);
    auto from = resumePoint(req, "from").value_or(0);
    return liveStreamResponse(events ? "text/event-stream; charset=utf-8" : "text/plain; charset=utf-8",
                              [body = std::move(body), from, events](const BodyWriter& out) {
                                  if (events) out(sseRetry);
                                  body(out, from, events);
                              });
}

} // namespace

Response followResponse(const Site& site, const Request& req, FollowTarget target)
{
    return followStream(
        req, [&site, target = std::move(target)](const BodyWriter& out, uint64_t from, bool events) {
            followTo(site, target, from, events, out);
        });
}

Response followBuildResponse(const Site& site, const Request& req, int64_t buildId,
                             const db::web::FollowedStep& f)
{
    if (!f.step && f.buildFinished)
        throw HttpError(
            404, fmt::format("build {} has no log to follow: it finished without a build step", buildId));
    return followStream(req,
                        [&site, buildId, step = f.step](const BodyWriter& out, uint64_t from, bool events) {
                            auto s = step ? step : waitForFirstStep(site, buildId, events, out);
                            if (!s) {
                                if (site.live().stopped()) throw Error("hydra-server is stopping");
                                if (events) out(sseEvent("end", from, Json::object()));
                                return;
                            }
                            followTo(site,
                                     {.buildId = buildId,
                                      .stepNr = s->stepNr,
                                      .drvPath = s->drvPath,
                                      .what = fmt::format("step {} of build {}", s->stepNr, buildId)},
                                     from, events, out);
                        });
}

} // namespace hydra::server

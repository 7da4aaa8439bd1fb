#include "server/log_stream.hh"

#include "db/queue_notify.hh"
#include "db/schema.hh"
#include "db/web_logs.hh"
#include "nix/build_log_path.hh"
#include "server/live_step_watch.hh"
#include "server/log_follow.hh"
#include "server/site.hh"
#include "util/error.hh"

#include <charconv>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <optional>

namespace hydra::server {

namespace {

using Json = nlohmann::json;

// How long a browser waits before reconnecting a dropped stream (it resumes with Last-Event-ID).
constexpr const char* reconnectAdvice = "retry: 2000\n\n";
constexpr const char* keepAlive = ": keep-alive\n\n";
constexpr auto keepAliveEvery = std::chrono::seconds(15);

bool wantsEvents(const Request& req)
{
    return req.header("accept").find("text/event-stream") != std::string::npos;
}

uint64_t startOffset(const Request& req)
{
    auto value = req.header("last-event-id");
    const char* what = "Last-Event-ID";
    if (value.empty()) {
        value = req.queryValue("from").value_or("0");
        what = "from";
    }
    uint64_t v = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
    if (value.empty() || ec != std::errc() || end != value.data() + value.size())
        throw HttpError(400, fmt::format("‘{}’ must be a byte offset in the log, not ‘{}’", what, value));
    return v;
}

std::string sseEvent(std::string_view event, uint64_t id, const Json& data)
{
    // Log text need not be UTF-8; the browser gets U+FFFD for what is not.
    return fmt::format("id: {}\nevent: {}\ndata: {}\n\n", id, event,
                       data.dump(-1, ' ', false, Json::error_handler_t::replace));
}

Response streamResponse(bool events, std::function<void(const BodyWriter&)> body)
{
    Response r;
    r.contentType = events ? "text/event-stream; charset=utf-8" : "text/plain; charset=utf-8";
    r.live = true;
    r.headers.emplace_back("Cache-Control", "no-cache");
    // nginx, the usual proxy in front of Hydra, holds a response back until it has a buffer full.
    r.headers.emplace_back("X-Accel-Buffering", "no");
    r.stream = std::move(body);
    return r;
}

void followTo(const Site& site, const FollowTarget& target, uint64_t from, bool events, const BodyWriter& out)
{
    LogTail tail(nix::buildLogPath(site.config().logDir, target.drvPath), from);
    LiveStepWatch watch(site, target.buildId, target.stepNr);
    FollowSink sink;
    if (events) {
        sink.text = [&](std::string_view chunk, uint64_t after) {
            return out(chunk.empty() ? keepAlive : sseEvent("log", after, {{"text", std::string(chunk)}}));
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
    if (e.channel == c::buildFinished)
        for (size_t i = 0; i < e.fields.size(); ++i)
            if (e.id(i) == buildId) return true;
    return false;
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
        if (news.empty() && events && !out(keepAlive)) return std::nullopt;
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
    return (follow && *follow != "0") || wantsEvents(req);
}

Response followResponse(const Site& site, const Request& req, FollowTarget target)
{
    bool events = wantsEvents(req);
    auto from = startOffset(req);
    return streamResponse(events, [&site, target = std::move(target), from, events](const BodyWriter& out) {
        if (events) out(reconnectAdvice);
        followTo(site, target, from, events, out);
    });
}

Response followBuildResponse(const Site& site, const Request& req, int64_t buildId)
{
    bool events = wantsEvents(req);
    auto from = startOffset(req);
    auto f = site.read([&](auto& t) { return db::web::followedStep(t, buildId); });
    if (!f) throw HttpError(404, fmt::format("build {} does not exist", buildId));
    if (!f->step && f->buildFinished)
        throw HttpError(
            404, fmt::format("build {} has no log to follow: it finished without a build step", buildId));
    return streamResponse(events, [&site, buildId, from, events, step = f->step](const BodyWriter& out) {
        if (events) out(reconnectAdvice);
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

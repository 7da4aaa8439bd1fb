#include "server/live_step_watch.hh"

#include "db/queue_notify.hh"
#include "db/schema.hh"
#include "db/web_logs.hh"
#include "server/site.hh"
#include "util/logging.hh"

namespace hydra::server {

namespace {
// Without any news, the database is still asked this often: a queue runner that died leaves
// its steps busy in the database, and sends nothing.
constexpr auto recheckEvery = std::chrono::seconds(60);
} // namespace

LiveStepWatch::LiveStepWatch(const Site& site, int64_t buildId, int stepNr)
    : site_(site), buildId_(buildId), stepNr_(stepNr), seq_(site.live().lastSeq()),
      lastCheck_(std::chrono::steady_clock::now())
{}

bool LiveStepWatch::concerns(const LiveEvent& e) const
{
    namespace c = db::channel;
    if (e.channel == LiveEvents::resync || e.channel == c::buildsCancelled || e.channel == c::buildsDeleted ||
        e.channel == c::buildsRestarted)
        return true;
    if (e.channel == c::stepFinished) return e.id(0) == buildId_ && e.id(1) == stepNr_;
    return e.channel == c::buildFinished && e.names(buildId_);
}

void LiveStepWatch::wait(std::chrono::milliseconds timeout)
{
    auto& live = site_.live();
    if (live.stopped()) {
        ended_ = true;
        return;
    }
    for (const auto& e : live.after(seq_, timeout)) {
        seq_ = e.seq;
        if (concerns(e)) dirty_ = true;
    }
    if (live.stopped()) ended_ = true;
}

bool LiveStepWatch::ended()
{
    if (ended_) return true;
    auto now = std::chrono::steady_clock::now();
    if (!dirty_ && now - lastCheck_ < recheckEvery) return false;
    dirty_ = false;
    lastCheck_ = now;
    try {
        auto step = site_.read([&](auto& t) { return db::web::buildStepForLog(t, buildId_, stepNr_); });
        ended_ = !step || !step->running;
    } catch (const std::exception& e) {
        // The database is away: keep following, and ask again at the next news or recheck.
        log::warn("build {} step {}: cannot tell whether the step still runs: {}", buildId_, stepNr_,
                  e.what());
    }
    return ended_;
}

} // namespace hydra::server

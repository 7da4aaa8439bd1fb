#include "server/live_feed.hh"

#include "db/eval_writer.hh"
#include "db/jobsets.hh"
#include "db/queue_notify.hh"
#include "db/schema.hh"

namespace hydra::server {

namespace {

std::vector<std::string> splitFields(const std::string& payload)
{
    std::vector<std::string> fields;
    if (payload.empty()) return fields;
    size_t start = 0;
    for (;;) {
        auto tab = payload.find('\t', start);
        fields.push_back(payload.substr(start, tab - start));
        if (tab == std::string::npos) break;
        start = tab + 1;
    }
    return fields;
}

} // namespace

const std::vector<std::string>& LiveFeed::channels()
{
    namespace c = db::channel;
    static const std::vector<std::string> list{
        c::buildQueued,       c::buildsAdded,        c::buildStarted,    c::stepStarted,  c::stepFinished,
        c::buildFinished,     c::buildsRestarted,    c::buildsCancelled, c::buildsBumped, c::buildsDeleted,
        c::evalStarted,       c::evalProgress,       c::evalAdded,       c::evalFailed,   c::evalCached,
        c::cachedBuildQueued, c::cachedBuildFinished};
    return list;
}

LiveFeed::LiveFeed(const std::string& conninfo, LiveEvents& events)
{
    listener_ = std::make_unique<db::Listener>(
        conninfo, channels(),
        [&events](const std::string& channel, const std::string& payload) {
            events.publish(channel, splitFields(payload));
        },
        [&events] { events.publish(LiveEvents::resync, {}); });
}

} // namespace hydra::server

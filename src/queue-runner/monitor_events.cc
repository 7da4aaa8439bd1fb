#include "queue-runner/monitor_events.hh"

#include "db/eval_writer.hh"
#include "db/schema.hh"

#include <algorithm>
#include <charconv>

namespace hydra::qr {

namespace {

std::optional<db::BuildId> parseId(std::string_view payload)
{
    db::BuildId id = 0;
    const char* end = payload.data() + payload.size();
    auto [ptr, ec] = std::from_chars(payload.data(), end, id);
    if (ec != std::errc() || ptr == payload.data()) return std::nullopt;
    return id;
}

} // namespace

void MonitorEvents::note(std::string_view channel, std::string_view payload)
{
    namespace c = db::channel;
    if (channel == c::buildsAdded) {
        if (auto id = parseId(payload))
            lowestAdded = lowestAdded ? std::min(*lowestAdded, *id) : *id;
        else
            rescan = true;
    } else if (channel == c::buildsRestarted) {
        rescan = true;
    } else if (channel == c::buildsCancelled || channel == c::buildsDeleted) {
        reconcile = true;
    } else if (channel == c::buildsBumped) {
        bumped = true;
    } else if (channel == c::jobsetSharesChanged) {
        sharesChanged = true;
    }
    ++count;
}

void MonitorEvents::noteGap()
{
    rescan = reconcile = bumped = sharesChanged = true;
    ++count;
}

bool MonitorEvents::pending() const
{
    return rescan || lowestAdded || reconcile || bumped || sharesChanged || !substituted.empty();
}

MonitorEvents MonitorEvents::take(Clock::TimePoint now, Clock::TimePoint due)
{
    MonitorEvents taken = std::move(*this);
    *this = MonitorEvents{.rescan = false, .count = taken.count};
    taken.periodic = now >= due;
    return taken;
}

std::vector<std::string> monitorChannels()
{
    namespace c = db::channel;
    return {c::buildsAdded,   c::buildsRestarted, c::buildsCancelled,
            c::buildsDeleted, c::buildsBumped,    c::jobsetSharesChanged};
}

std::vector<db::BuildId> noLongerQueued(const std::vector<db::BuildId>& held,
                                        const std::vector<db::BuildState>& states)
{
    std::set<db::BuildId> stillQueued;
    for (const auto& s : states)
        if (!s.finished) stillQueued.insert(s.id);
    std::vector<db::BuildId> gone;
    for (db::BuildId id : held)
        if (!stillQueued.contains(id)) gone.push_back(id);
    return gone;
}

LookAgain lookAgain(const std::vector<db::BuildId>& held, const std::vector<db::QueuedPriority>& queued,
                    const std::set<db::BuildId>& substituting)
{
    std::set<db::BuildId> known(held.begin(), held.end());
    LookAgain plan;
    for (const auto& p : queued) {
        if (known.contains(p.id))
            plan.bumps.push_back(p); // raises only: a lost builds_bumped
        else if (!substituting.contains(p.id) && (!plan.loadFrom || p.id < *plan.loadFrom))
            plan.loadFrom = p.id;
    }
    return plan;
}

} // namespace hydra::qr

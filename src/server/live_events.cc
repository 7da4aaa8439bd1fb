#include "server/live_events.hh"

#include <charconv>

namespace hydra::server {

int64_t LiveEvent::id(size_t i) const
{
    if (i >= fields.size()) return 0;
    const auto& f = fields[i];
    int64_t v = 0;
    auto [end, ec] = std::from_chars(f.data(), f.data() + f.size(), v);
    return ec == std::errc() && end == f.data() + f.size() && v > 0 ? v : 0;
}

bool LiveEvent::names(int64_t wanted) const
{
    for (size_t i = 0; i < fields.size(); ++i)
        if (id(i) == wanted) return true;
    return false;
}

LiveEvents::LiveEvents(size_t keep) : keep_(keep == 0 ? 1 : keep) {}

void LiveEvents::publish(std::string channel, std::vector<std::string> fields)
{
    {
        auto s = state_.lock();
        if (s->stopped) return;
        s->kept.push_back({.seq = ++s->seq, .channel = std::move(channel), .fields = std::move(fields)});
        if (s->kept.size() > keep_) s->kept.pop_front();
    }
    changed_.notify_all();
}

std::vector<LiveEvent> LiveEvents::after(uint64_t afterSeq, std::chrono::milliseconds timeout)
{
    auto s = state_.lock();
    // A number from before a restart of the server is above any it has now: that waiter has to
    // read again what it shows, then go on from here.
    if (afterSeq > s->seq && !s->stopped) return {{.seq = s->seq, .channel = resync, .fields = {}}};
    s.waitFor(changed_, timeout, [&](const State& st) { return st.stopped || st.seq > afterSeq; });
    std::vector<LiveEvent> out;
    if (s->stopped || s->seq <= afterSeq) return out;
    if (s->kept.front().seq > afterSeq + 1)
        out.push_back({.seq = s->kept.front().seq - 1, .channel = resync, .fields = {}});
    for (const auto& e : s->kept)
        if (e.seq > afterSeq) out.push_back(e);
    return out;
}

void LiveEvents::visit(const std::function<void(const LiveEvent&)>& f)
{
    auto s = state_.lock();
    for (const auto& e : s->kept) f(e);
}

uint64_t LiveEvents::lastSeq()
{
    return state_.lock()->seq;
}

void LiveEvents::stop()
{
    state_.lock()->stopped = true;
    changed_.notify_all();
}

bool LiveEvents::stopped()
{
    return state_.lock()->stopped;
}

} // namespace hydra::server

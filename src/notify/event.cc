#include "notify/event.hh"

#include "db/eval_writer.hh"
#include "db/jobsets.hh"
#include "db/queue_notify.hh"
#include "util/error.hh"

#include <algorithm>
#include <charconv>
#include <climits>
#include <cstdint>
#include <map>
#include <optional>

namespace hydra::notify {

namespace {

/// The payload layout of a channel: how many fields at least and at most,
/// and which fields must be ids (positive integers).
struct Layout {
    size_t minFields;
    size_t maxFields; ///< SIZE_MAX: any number (build_finished names any number of dependents)
    size_t firstId;   ///< fields firstId to endId - 1 are ids; before them: the eval_* trace id
    size_t endId;     ///< after them: step_finished's log path
};

const std::map<std::string, Layout, std::less<>>& layouts()
{
    static const std::map<std::string, Layout, std::less<>> all = {
        {db::channel::buildQueued, {1, 1, 0, 1}},
        {db::channel::buildStarted, {1, 1, 0, 1}},
        {db::channel::buildFinished, {1, SIZE_MAX, 0, SIZE_MAX}},
        {db::channel::stepStarted, {2, 2, 0, 2}},
        {db::channel::stepFinished, {2, 3, 0, 2}},
        {db::channel::cachedBuildQueued, {2, 2, 0, 2}},
        {db::channel::cachedBuildFinished, {2, 2, 0, 2}},
        {db::channel::evalStarted, {2, 2, 1, 2}},
        {db::channel::evalFailed, {2, 2, 1, 2}},
        {db::channel::evalAdded, {3, 3, 1, 3}},
        {db::channel::evalCached, {3, 3, 1, 3}},
    };
    return all;
}

std::vector<std::string> splitTabs(const std::string& s)
{
    std::vector<std::string> out;
    size_t from = 0;
    for (;;) {
        auto tab = s.find('\t', from);
        out.push_back(s.substr(from, tab == std::string::npos ? std::string::npos : tab - from));
        if (tab == std::string::npos) return out;
        from = tab + 1;
    }
}

std::optional<int64_t> asId(const std::string& s)
{
    int64_t v = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || ptr != s.data() + s.size() || v <= 0) return std::nullopt;
    return v;
}

int64_t idAt(const Event& e, size_t i)
{
    return i < e.fields.size() ? asId(e.fields[i]).value_or(0) : 0;
}

} // namespace

Event Event::parse(std::string channel, std::string payload)
{
    auto it = layouts().find(channel);
    if (it == layouts().end()) throw Error("notification on unknown channel ‘{}’", channel);
    const Layout& l = it->second;
    Event e;
    e.channel = std::move(channel);
    e.payload = std::move(payload);
    e.fields = splitTabs(e.payload);
    bool fits = e.fields.size() >= l.minFields && e.fields.size() <= l.maxFields;
    for (size_t i = l.firstId; fits && i < std::min(l.endId, e.fields.size()); ++i)
        fits = asId(e.fields[i]).has_value();
    if (!fits) throw Error("malformed payload ‘{}’ on channel ‘{}’", e.payload, e.channel);
    return e;
}

int64_t Event::buildId() const
{
    if (channel.starts_with("cached_build_")) return idAt(*this, 1);
    if (channel.starts_with("build_") || channel.starts_with("step_")) return idAt(*this, 0);
    return 0;
}

std::vector<int64_t> Event::dependents() const
{
    std::vector<int64_t> out;
    if (channel != db::channel::buildFinished) return out;
    for (size_t i = 1; i < fields.size(); ++i) out.push_back(idAt(*this, i));
    return out;
}

std::vector<int64_t> Event::buildsToHandle() const
{
    std::vector<int64_t> out;
    if (!buildHandled) out.push_back(buildId());
    for (auto d : dependents()) out.push_back(d);
    return out;
}

int Event::stepNr() const
{
    if (!channel.starts_with("step_")) return 0;
    return static_cast<int>(idAt(*this, 1));
}

std::string Event::logPath() const
{
    return channel == db::channel::stepFinished && fields.size() > 2 ? fields[2] : std::string();
}

const std::vector<std::string>& notifyChannels()
{
    static const std::vector<std::string> all = [] {
        std::vector<std::string> v;
        for (const auto& [name, layout] : layouts()) v.push_back(name);
        return v;
    }();
    return all;
}

} // namespace hydra::notify

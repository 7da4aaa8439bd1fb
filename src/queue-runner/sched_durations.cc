#include "queue-runner/sched_durations.hh"

namespace hydra::qr {

std::chrono::seconds DurationHistory::expected(const std::string& key) const
{
    auto i = known_.find(key);
    return i == known_.end() ? fallback_ : expected(i->second);
}

void DurationHistory::set(const std::string& key, std::chrono::seconds duration)
{
    known_[key] = {duration, true};
}

void DurationHistory::record(Entry& entry, std::chrono::seconds duration)
{
    entry.seconds = entry.known ? (entry.seconds + duration) / 2 : duration;
    entry.known = true;
}

std::string DurationHistory::derivationName(std::string_view drvPath)
{
    auto slash = drvPath.rfind('/');
    if (slash != std::string_view::npos) drvPath.remove_prefix(slash + 1);
    auto dash = drvPath.find('-');
    if (dash != std::string_view::npos) drvPath.remove_prefix(dash + 1);
    if (drvPath.ends_with(".drv")) drvPath.remove_suffix(4);
    return std::string(drvPath);
}

} // namespace hydra::qr

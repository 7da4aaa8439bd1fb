#include "queue-runner/sched_durations.hh"

#include <algorithm>
#include <limits>

namespace hydra::qr {

namespace {

uint32_t clampSeconds(std::chrono::seconds d)
{
    return static_cast<uint32_t>(std::clamp<int64_t>(d.count(), 0, std::numeric_limits<uint32_t>::max()));
}

} // namespace

uint64_t DurationHistory::hash(std::string_view key)
{
    // FNV-1a: stable across runs and library versions, and good enough for names.
    uint64_t h = 14695981039346656037ULL;
    for (char c : key) {
        h ^= static_cast<unsigned char>(c);
        h *= 1099511628211ULL;
    }
    return h;
}

std::chrono::seconds DurationHistory::expected(std::string_view key) const
{
    auto i = known_.find(hash(key));
    return i == known_.end() ? fallback_ : expected(i->second);
}

void DurationHistory::set(std::string_view key, std::chrono::seconds duration)
{
    entry(key) = {.seconds = clampSeconds(duration), .known = true};
}

void DurationHistory::record(Entry& entry, std::chrono::seconds duration)
{
    auto measured = clampSeconds(duration);
    entry.seconds = entry.known ? static_cast<uint32_t>((uint64_t{entry.seconds} + measured) / 2) : measured;
    entry.known = true;
}

std::string_view DurationHistory::derivationName(std::string_view drvPath)
{
    auto slash = drvPath.rfind('/');
    if (slash != std::string_view::npos) drvPath.remove_prefix(slash + 1);
    auto dash = drvPath.find('-');
    if (dash != std::string_view::npos) drvPath.remove_prefix(dash + 1);
    if (drvPath.ends_with(".drv")) drvPath.remove_suffix(4);
    return drvPath;
}

} // namespace hydra::qr

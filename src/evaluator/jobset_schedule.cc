#include "evaluator/jobset_schedule.hh"

#include <algorithm>
#include <limits>

namespace hydra::evaluator {

namespace {

bool waitsForBuilds(const db::JobsetState& j)
{
    return j.mode == db::JobsetMode::OneAtATime && j.lastEvalHasUnfinished;
}

/// Sort key: a triggered jobset before one due by its interval; older first within each.
std::pair<int, int64_t> urgency(const db::JobsetState& j)
{
    if (j.triggerTime) return {0, *j.triggerTime};
    return {1, j.lastCheckedTime.value_or(std::numeric_limits<int64_t>::min())};
}

} // namespace

bool isDue(const db::JobsetState& j, int64_t now)
{
    // startTime set: another evaluator (or `hydra eval`) holds it, or one that died did
    // (hydra-evaluator --unlock frees those).
    if (j.mode == db::JobsetMode::Disabled || j.startTime) return false;
    // An explicit request ("Evaluate now", a push hook) beats one-at-a-time, as in Hydra.
    if (j.triggerTime) return true;
    if (waitsForBuilds(j)) return false;
    if (j.checkInterval <= 0) return false;
    if (!j.lastCheckedTime) return true;
    return *j.lastCheckedTime + j.checkInterval <= now;
}

std::vector<db::JobsetState> dueJobsets(const std::vector<db::JobsetState>& jobsets,
                                        const std::set<int>& running, int64_t now, size_t freeSlots)
{
    std::vector<db::JobsetState> due;
    for (const auto& j : jobsets)
        if (!running.contains(j.id) && isDue(j, now)) due.push_back(j);
    std::stable_sort(due.begin(), due.end(), [](const db::JobsetState& a, const db::JobsetState& b) {
        return urgency(a) < urgency(b);
    });
    if (due.size() > freeSlots) due.resize(freeSlots);
    return due;
}

std::optional<int64_t> nextDueTime(const std::vector<db::JobsetState>& jobsets, int64_t now)
{
    std::optional<int64_t> next;
    for (const auto& j : jobsets) {
        if (j.mode == db::JobsetMode::Disabled || waitsForBuilds(j) || j.startTime || j.triggerTime ||
            j.checkInterval <= 0 || !j.lastCheckedTime)
            continue;
        int64_t at = std::max(now, *j.lastCheckedTime + j.checkInterval);
        if (!next || at < *next) next = at;
    }
    return next;
}

} // namespace hydra::evaluator

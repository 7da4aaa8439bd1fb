#pragma once
// Which jobsets are due for evaluation, in which order: pure, so it is tested with any clock.

#include "db/eval_records.hh"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <vector>

namespace hydra::evaluator {

/// Jobsets to start now (oldest trigger first, then longest unchecked), at most
/// `freeSlots`, skipping those in `running` and those whose evaluation is not due.
std::vector<db::JobsetState> dueJobsets(const std::vector<db::JobsetState>& jobsets,
                                        const std::set<int>& running, int64_t now, size_t freeSlots);

/// Whether one jobset is due at `now` (ignoring slots and what runs).
bool isDue(const db::JobsetState& j, int64_t now);

/// When the earliest not-yet-due jobset becomes due by its check interval (nullopt: none will
/// without a trigger).
std::optional<int64_t> nextDueTime(const std::vector<db::JobsetState>& jobsets, int64_t now);

} // namespace hydra::evaluator

#pragma once
// Searching projects, jobsets and builds for /search: every query bounded and indexed (store
// paths are matched exactly, by their hash indexes, never by a scan of all builds).

#include <cstdint>
#include <pqxx/pqxx>
#include <string>
#include <utility>
#include <vector>

namespace hydra::db::web {

/// What a search found, as names and ids for the callers to load.
struct SearchHits {
    std::vector<std::string> projects; ///< visible, by name
    std::vector<int64_t> jobsets;      ///< visible, by id
    std::vector<int64_t> builds;       ///< with an output path equal to the query
    std::vector<int64_t> buildsDrv;    ///< whose .drv path equals the query
};

/// Projects whose name, display name or description contain `query` (case-insensitive),
/// jobsets whose name or description do, and builds by exact path: at most `limit` of each,
/// newest builds first.
SearchHits search(pqxx::transaction_base& t, const std::string& query, int64_t limit);

} // namespace hydra::db::web

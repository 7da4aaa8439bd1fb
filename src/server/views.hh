#pragma once
// HTML pieces shared by the pages: a build's state at a glance, times, pagers, build tables.

#include "db/web_records.hh"
#include "server/html.hh"
#include "server/respond.hh"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace hydra::server {

class Site;

/// The state of a build or step as coloured text ("Succeeded", "Failed", "Queued"...).
Html statusBadge(bool finished, std::optional<int> status, bool running = false);

/// Hydra's words for a running step's stage (BuildSteps.busy).
std::string_view stepStageText(int busy);

/// Hydra's words for a status code.
std::string_view statusText(std::optional<int> status);

/// A time as "5 min ago" with the absolute UTC time in its title and datetime.
Html timeView(const Site& site, std::optional<int64_t> t);

/// A duration in seconds as "1h 2m 3s".
std::string durationText(int64_t seconds);

/// Links to the first, previous, next and last of `total` rows, `perPage` a page.
Html pager(const Site& site, std::string_view path, int64_t page, int64_t total, int64_t perPage);

/// Links to the previous and next page where counting every row would cost too much.
Html nextPager(const Site& site, std::string_view path, int64_t page, bool hasNext);

/// A table of evaluations: id, jobset (when `showJobset`), time, changed inputs, builds, successes.
Html evalTable(const Site& site, std::span<const db::web::Eval> evals, bool showJobset);

/// A table of builds: status, id, job, finished time, name, system.
Html buildTable(const Site& site, std::span<const db::web::Build> builds);

} // namespace hydra::server

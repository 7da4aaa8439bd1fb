#pragma once
// Handlers of the farm as it is now, read from the database: the queue, its summary, the
// builds with running steps (/status), and the latest evaluations and finished steps.

#include "server/router.hh"

namespace hydra::server {

Response queuePage(const Site& site, const Request& req);
Response queueSummaryPage(const Site& site, const Request& req);
Response runningBuildsPage(const Site& site, const Request& req);
Response recentEvalsPage(const Site& site, const Request& req);
Response recentStepsPage(const Site& site, const Request& req);

} // namespace hydra::server

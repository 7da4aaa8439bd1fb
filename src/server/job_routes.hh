#pragma once
// Handlers of /job/P/J/JOB: its page, its shield and its figures over time.

#include "server/router.hh"

namespace hydra::server {

Response jobPage(const Site& site, const Request& req);
Response jobShield(const Site& site, const Request& req);
Response jobMetric(const Site& site, const Request& req);
Response jobBuildTimes(const Site& site, const Request& req);
Response jobClosureSizes(const Site& site, const Request& req);
Response jobOutputSizes(const Site& site, const Request& req);

} // namespace hydra::server

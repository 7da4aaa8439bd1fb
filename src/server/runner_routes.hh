#pragma once
// Handlers of the pages the queue runner itself reports (/machines, /queue-runner-status),
// read over HTTP from queue_runner_endpoint; when it cannot be reached they say so plainly.

#include "server/router.hh"

namespace hydra::server {

Response machinesPage(const Site& site, const Request& req);
Response queueRunnerStatusPage(const Site& site, const Request& req);

} // namespace hydra::server

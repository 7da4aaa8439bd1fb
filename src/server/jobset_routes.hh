#pragma once
// Handlers of /jobset/P/J and its evaluation list, errors and latest-eval redirect.

#include "db/web_records.hh"
#include "server/router.hh"

namespace hydra::server {

Response jobsetPage(const Site& site, const Request& req);
Response jobsetEvalsPage(const Site& site, const Request& req);
Response jobsetErrorsPage(const Site& site, const Request& req);
Response jobsetLatestEval(const Site& site, const Request& req);

/// The jobset of the route's :project and :jobset, or HttpError 404 naming it.
db::web::Jobset requireJobset(const Site& site, const Request& req);

} // namespace hydra::server

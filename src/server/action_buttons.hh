#pragma once
// The action buttons of the build and evaluation pages: small forms posting to the action
// routes (never links: a GET changes nothing), shown to logged-in users only.

#include "db/web_records.hh"
#include "server/html.hh"
#include "server/http.hh"

#include <cstdint>
#include <string>

namespace hydra::server {

class Site;

/// Restart (finished), cancel and bump (queued), keep or stop keeping; empty when anonymous.
Html buildActionButtons(const Site& site, const Request& req, const db::web::Build& build);

/// Restart the failed or the aborted builds, cancel and bump the queued ones; empty when
/// anonymous.
Html evalActionButtons(const Site& site, const Request& req, int64_t evalId);

/// "Evaluate now" (forced, as Hydra's jobset page asks for it); empty when anonymous.
Html jobsetActionButtons(const Site& site, const Request& req, const std::string& project,
                         const std::string& jobset);

} // namespace hydra::server

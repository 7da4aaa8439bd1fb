#include "server/admin_queue_routes.hh"

#include "db/queue_admin.hh"
#include "server/action_answer.hh"
#include "server/permissions.hh"
#include "server/site.hh"
#include "util/logging.hh"

namespace hydra::server {

Response adminClearQueueNonCurrent(const Site& site, const Request& req)
{
    requireAdmin(req);
    auto n = site.write([&](auto& t) { return db::clearQueueNonCurrent(t, site.now()); });
    log::info("queue: {} builds of no current evaluation cancelled by {}", n, req.user->username);
    return actionAnswer(site, req, "/queue", {{"cancelled", n}});
}

Response adminClearFailedCache(const Site& site, const Request& req)
{
    requireAdmin(req);
    auto n = site.write([&](auto& t) { return db::clearFailedPaths(t); });
    log::info("failed-paths cache: {} paths forgotten by {}", n, req.user->username);
    return actionAnswer(site, req, "/", {{"cleared", n}});
}

} // namespace hydra::server

#pragma once
// Asking for evaluations: POST /jobset/P/J/trigger (the jobset page's button) and Hydra's
// POST /api/push?jobsets=P:J,...&repos=URL,...&force, both for the role eval-jobset or the
// project's owner and members.

#include "server/router.hh"

namespace hydra::server {

Response jobsetTriggerAction(const Site& site, const Request& req);
Response apiPush(const Site& site, const Request& req);

} // namespace hydra::server

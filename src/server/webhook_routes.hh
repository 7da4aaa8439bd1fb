#pragma once
// Forge webhooks: POST /api/push-github and /api/push-gitea, authenticated by the HMAC-SHA256
// of the raw body with a secret of hydra.conf's <webhooks> (X-Hub-Signature-256 "sha256=HEX",
// X-Gitea-Signature "HEX"); they trigger the jobsets whose inputs or flake name the pushed
// repository, as Hydra matches them.

#include "server/router.hh"

namespace hydra::server {

Response apiPushGithub(const Site& site, const Request& req);
Response apiPushGitea(const Site& site, const Request& req);

} // namespace hydra::server

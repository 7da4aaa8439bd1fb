#pragma once
// The secrets forges sign their push webhooks with, from hydra.conf as Hydra spells them:
//   <webhooks>
//     <github>  secret = ...  </github>   (several `secret` lines: any of them signs)
//     <gitea>   secret = ...  </gitea>
//   </webhooks>

#include "util/config_file.hh"

#include <string>
#include <vector>

namespace hydra::server {

/// The configured secrets of each forge; a forge without any has its webhook refused.
struct WebhookSecrets {
    std::vector<std::string> github;
    std::vector<std::string> gitea;
};

/// Reads the `<webhooks>` block of hydra.conf (none: no secrets). Throws Error naming file:line
/// and the key or block for anything else inside it, or an empty secret.
WebhookSecrets webhookSecretsFrom(const ConfigSection& root);

} // namespace hydra::server

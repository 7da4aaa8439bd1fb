#pragma once
// ServerConfig: everything hydra-server needs, from its arguments and hydra.conf, checked once.

#include "nix/signing.hh"
#include "server/webhook_secrets.hh"
#include "util/hydra_config.hh"

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>

namespace hydra::server {

/// hydra-server's settings, validated at start-up.
struct ServerConfig {
    std::string host = "127.0.0.1";
    int port = 3000;
    std::string baseUri;  ///< base_uri without a trailing '/', "" when unset
    std::string basePath; ///< its path ("/hydra"), "" at the root
    bool isPrivate = false;
    std::filesystem::path logDir; ///< $HYDRA_DATA/build-logs
    std::optional<std::string> queueRunnerEndpoint;
    unsigned threads = 64;              ///< requests served at once (one per open connection)
    size_t maxDbConnections = 16;       ///< of the server's own pool
    std::chrono::seconds ioTimeout{30}; ///< a slower client is cut off
    size_t maxRequestBody = 1 << 20;
    /// A forge's push event (GitHub sends up to 25 MiB). httplib reads bodies up to this size
    /// before routing, so a request costs at most this much memory per thread.
    size_t maxWebhookBody = 25 << 20;
    /// binary_cache_secret_key_file, read at start-up: signs the narinfo the server serves.
    std::shared_ptr<const nix::SigningKey> binaryCacheKey;
    std::string nixStoreDb;              ///< the local store's database ($NIX_STATE_DIR/db/db.sqlite)
    std::string storeDir = "/nix/store"; ///< NIX_STORE_DIR
    WebhookSecrets webhooks;             ///< <webhooks> of hydra.conf: what signs /api/push-github and -gitea
};

/// The arguments of hydra-server (`-p/--port N`, `--listen ADDR:PORT`, `--threads N`,
/// `--io-timeout SECONDS`: how long a client may take to send a request or read an answer) applied
/// over hydra.conf's settings. Throws Error naming a bad argument or value.
ServerConfig makeServerConfig(std::span<const std::string> args, const HydraConfig& conf,
                              const std::filesystem::path& dataDir);

} // namespace hydra::server

#pragma once
// Site: what every handler may use — the checked settings, the database pool, the clock, and
// the URLs of pages under base_uri.

#include "db/connection_pool.hh"
#include "server/binary_cache.hh"
#include "server/live_events.hh"
#include "server/login_throttle.hh"
#include "server/queue_runner_client.hh"
#include "server/server_config.hh"

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <pqxx/pqxx>
#include <string>
#include <string_view>

namespace hydra::server {

/// Shared, read-only context of the handlers (thread-safe: the pool has its own lock).
class Site {
public:
    using Clock = std::function<int64_t()>; ///< seconds since the epoch

    Site(ServerConfig config, db::ConnectionPool& db, Clock now);

    const ServerConfig& config() const { return config_; }
    /// The queue runner's status documents (queue_runner_endpoint), shared by all requests.
    const QueueRunnerClient& queueRunner() const { return queueRunner_; }
    int64_t now() const { return now_(); }
    /// The local Nix store as a binary cache.
    const BinaryCache& binaryCache() const { return binaryCache_; }
    /// The local Nix store's database (what is built, what a derivation needs).
    const StoreDatabase& store() const { return store_; }
    /// Failed logins per address, shared by all requests (it has its own lock).
    LoginThrottle& loginThrottle() const { return loginThrottle_; }
    /// The farm's recent events, for live pages and log followers (it has its own lock).
    LiveEvents& live() const { return live_; }

    /// A link to `path` (starting with '/') under base_uri's path, for pages.
    std::string url(std::string_view path) const;
    /// A link to the path of `segments`, each percent-encoded ({"job", project, jobset, job}).
    std::string link(std::initializer_list<std::string_view> segments) const;
    /// An absolute URL to `path` for redirects and JSON: base_uri when set, else the path.
    std::string absoluteUrl(std::string_view path) const;

    /// Runs f(pqxx::transaction_base&) and returns its result. Each statement reads on its own
    /// (no BEGIN and COMMIT: two of a page's few round trips to the database); the db layer's
    /// readers tolerate rows that change between their statements.
    template <typename F> auto read(F&& f) const
    {
        return db_.withTransaction<pqxx::nontransaction>(std::forward<F>(f));
    }

    /// Runs f(pqxx::work&) in one transaction and commits: for actions that change something.
    template <typename F> auto write(F&& f) const
    {
        return db_.withTransaction<pqxx::work>(std::forward<F>(f));
    }

private:
    ServerConfig config_;
    QueueRunnerClient queueRunner_;
    db::ConnectionPool& db_;
    Clock now_;
    mutable LoginThrottle loginThrottle_;
    mutable LiveEvents live_;
    StoreDatabase store_;
    BinaryCache binaryCache_;
};

} // namespace hydra::server

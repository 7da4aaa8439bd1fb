#pragma once
// The bounded pool of PostgreSQL connections shared by all threads of a program, so that a
// machine with many build slots cannot exceed the server's connection limit.

#include "util/logging.hh"
#include "util/pool.hh"
#include "util/strings.hh"

#include <chrono>
#include <cstddef>
#include <pqxx/pqxx>
#include <string>
#include <type_traits>
#include <utility>

namespace hydra::db {

/// Options of the bounded database connection pool.
struct PoolOptions {
    std::string conninfo;
    size_t maxConnections = 128; // hydra.conf: max_db_connections
    std::chrono::milliseconds acquireTimeout{30000};
};

/// The bounded pool of PostgreSQL connections every program shares. Connections are opened on
/// demand; one that broke (e.g. the server restarted) is dropped and replaced by a new one.
class ConnectionPool {
public:
    explicit ConnectionPool(PoolOptions opts);

    /// RAII: returns the connection on destruction; markBroken() drops it instead.
    using Handle = Pool<pqxx::connection>::Handle;

    /// A connection for exclusive use; waits while all are in use, then throws TimeoutError
    /// "all N database connections are in use: gave up after waiting X s ...".
    Handle acquire();

    /// Connections currently open (idle or in use).
    size_t size() const { return pool_.size(); }
    size_t max() const { return pool_.max(); }

    /// Runs f(pqxx::work&) and commits. If the connection turns out to be broken before the
    /// commit was sent, the whole transaction is retried once on a new connection; so f must
    /// be safe to run twice (do its side effects in the database). Returns what f returns.
    /// With Txn = pqxx::nontransaction each statement commits by itself, saving the round trips
    /// of BEGIN and COMMIT where f runs a single statement.
    template <typename Txn = pqxx::work, typename F> auto withTransaction(F&& f)
    {
        for (int attempt = 1;; ++attempt) {
            auto conn = acquire();
            bool committing = false;
            try {
                Txn txn(*conn);
                if constexpr (std::is_void_v<std::invoke_result_t<F&, Txn&>>) {
                    f(txn);
                    committing = true;
                    txn.commit();
                    return;
                } else {
                    auto result = f(txn);
                    committing = true;
                    txn.commit();
                    return result;
                }
            } catch (const pqxx::failure& e) {
                if (!connectionLost(*conn, e)) throw;
                conn.markBroken();
                // After the commit was sent we cannot know whether it took effect.
                if (committing || attempt > 1) throw;
                log::warn("database connection lost ({}); retrying the transaction on a new connection",
                          oneLine(e.what()));
            }
        }
    }

    /// The error means the connection is gone (not a problem with the SQL).
    static bool connectionLost(const pqxx::connection& c, const pqxx::failure& e);

private:
    PoolOptions opts_;
    Pool<pqxx::connection> pool_;
};

/// An idle connection is still usable: open, and the server has not sent anything (such as
/// the error of a terminated backend, or end-of-file) since it was last used. Cheap: no query.
bool idleConnectionUsable(const pqxx::connection& c);

/// Turns off libpqxx 6's silent reconnection: a lost connection must surface as an error so
/// that the pool replaces it and the listener knows notifications may have been missed.
void disableReactivation(pqxx::connection& c);

} // namespace hydra::db

#include "db/connection_pool.hh"

#include "db/connect.hh"

#include <poll.h>

namespace hydra::db {

void disableReactivation(pqxx::connection& c)
{
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    c.inhibit_reactivation(true);
#pragma GCC diagnostic pop
}

bool idleConnectionUsable(const pqxx::connection& c)
{
    if (!c.is_open()) return false;
    pollfd p{.fd = c.sock(), .events = POLLIN, .revents = 0};
    if (p.fd < 0) return false;
    // Between transactions the server says nothing unless the backend is going away (an error
    // message, then end-of-file); a readable socket means the connection is not worth keeping.
    return poll(&p, 1, 0) == 0;
}

ConnectionPool::ConnectionPool(PoolOptions opts)
    : opts_(std::move(opts)),
      pool_(
          opts_.maxConnections,
          [this] {
              auto c = connect(opts_.conninfo);
              disableReactivation(*c);
              return c;
          },
          [](pqxx::connection& c) { return idleConnectionUsable(c); }, "database connections")
{}

ConnectionPool::Handle ConnectionPool::acquire()
{
    return pool_.acquire(opts_.acquireTimeout);
}

bool ConnectionPool::connectionLost(const pqxx::connection& c, const pqxx::failure& e)
{
    if (dynamic_cast<const pqxx::broken_connection*>(&e) || !c.is_open()) return true;
    // The server ending the session (admin shutdown, crash recovery) or a connection-class error.
    if (auto sqlErr = dynamic_cast<const pqxx::sql_error*>(&e)) {
        const std::string& state = sqlErr->sqlstate();
        return state.starts_with("08") || state == "57P01" || state == "57P02" || state == "57P03";
    }
    return false;
}

} // namespace hydra::db

#pragma once
// Opening one PostgreSQL connection with an error message a user can act on.

#include <memory>
#include <pqxx/pqxx>
#include <string>
#include <string_view>

namespace hydra::db {

/// Connects, or throws hydra::Error "cannot connect to the database (<conninfo, password
/// hidden>): <libpq's reason on one line>".
std::unique_ptr<pqxx::connection> connect(const std::string& conninfo);

/// Adds libpq's connect_timeout (10 s) unless the conninfo sets one: no connection attempt
/// may hang on an unreachable server.
std::string withConnectTimeout(std::string_view conninfo);

/// The conninfo with any password replaced by "***", for messages and logs.
std::string redactConninfo(std::string_view conninfo);

} // namespace hydra::db

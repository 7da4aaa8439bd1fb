#pragma once
// Prepared statements for the statements a daemon runs for every event: parsed and planned
// once per connection instead of at every call (for hydra-notify's RunCommand that was a third
// of the database's time per event).

#include <pqxx/pqxx>
#include <string>
#include <utility>

namespace hydra::db::sql {

/// Runs `definition` with `args` as the connection's prepared statement `name` (one name per
/// definition). libpqxx registers it with the server at its first use on each connection, also
/// on a replacement for a broken one.
template <typename... Args>
pqxx::result execPrepared(pqxx::transaction_base& t, const std::string& name, const std::string& definition,
                          Args&&... args)
{
    t.conn().prepare(name, definition);
    return t.exec_prepared(name, std::forward<Args>(args)...);
}

} // namespace hydra::db::sql

#pragma once
// What every daemon does with its database before it starts working: report it, wait for it,
// and refuse a schema it does not know.

#include "db/database_source.hh"

#include <chrono>
#include <optional>
#include <pqxx/connection>
#include <stop_token>
#include <string>
#include <string_view>

namespace hydra::db {

/// How long a daemon waits between attempts to reach its database.
struct ReachBackoff {
    std::chrono::milliseconds first{1000};
    std::chrono::milliseconds max{30000};
};

/// Logs which database `program` uses (one line), connects, retrying while the database
/// cannot be reached (each failure logged, the wait doubling up to `backoff.max`), then requires
/// the schema this hydra knows (requireKnownSchema). Returns the conninfo, or nullopt when
/// `stop` is requested before the database could be reached.
std::optional<std::string> openDaemonDatabase(std::string_view program, const DatabaseSource& source,
                                              const std::stop_token& stop, ReachBackoff backoff = {});

/// Throws SchemaError (schemaMismatch's message) unless the database's schema version is
/// latestSchemaVersion().
void requireKnownSchema(pqxx::connection& c);

/// The one-line refusal of a database at schema version `found` by a hydra that knows `known`
/// (0: no hydra schema at all); empty when they are the same.
std::string schemaMismatch(int found, int known);

} // namespace hydra::db

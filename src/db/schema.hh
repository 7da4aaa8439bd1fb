#pragma once
// The Hydra database schema (version 87 and our later migrations): creation, upgrade, version.

#include "util/error.hh"

#include <chrono>
#include <pqxx/connection>
#include <span>
#include <string_view>
#include <vector>

namespace hydra::db {

/// The channels the schema's triggers send on (sql/base.sql; no payload).
namespace channel {
inline constexpr const char* buildsDeleted = "builds_deleted";
inline constexpr const char* buildsRestarted = "builds_restarted";
inline constexpr const char* buildsCancelled = "builds_cancelled";
inline constexpr const char* buildsBumped = "builds_bumped";
inline constexpr const char* jobsetSharesChanged = "jobset_shares_changed";
inline constexpr const char* jobsetsAdded = "jobsets_added";
inline constexpr const char* jobsetsDeleted = "jobsets_deleted";
inline constexpr const char* jobsetSchedulingChanged = "jobset_scheduling_changed";
} // namespace channel

/// One numbered schema migration (SQL text embedded in the binary from src/db/sql/).
struct Migration {
    int version;
    std::string_view name;
    std::string_view sql;
};

/// Thrown when the database's schema version is newer than this program knows (or unusable).
class SchemaError : public hydra::Error {
public:
    using Error::Error;
};

/// Outcome of initSchema.
struct InitResult {
    int fromVersion; ///< 0: the database was empty
    int toVersion;
    int applied;        ///< migrations applied, the base schema counting as one
    int webApplied = 0; ///< migrations of hydra-server's tables (initWebSchema)
};

/// The schema version of Hydra that base.sql creates.
constexpr int baseSchemaVersion = 87;

/// 87, or the highest built-in migration's version.
int latestSchemaVersion();

/// The built-in migrations (src/db/sql/migrations/NNNN-name.sql), in version order.
std::vector<Migration> builtinMigrations();

/// Creates the full schema on an empty database, or applies pending migrations in order, each
/// in its own transaction, all under an advisory lock (concurrent callers wait, then find
/// nothing to do); idempotent. Throws SchemaError for a database newer than known, older than
/// the base without a migration path, or holding tables but no SchemaVersion (left untouched).
InitResult initSchema(pqxx::connection& c);
InitResult initSchema(pqxx::connection& c, std::string_view baseSql, int baseVersion,
                      const std::vector<Migration>& migrations);

/// Creates or migrates hydra-server's own tables (PostgreSQL schema hydra_web: sessions, API
/// tokens) under the schema lock; initSchema does it too. Returns the migrations applied.
int initWebSchema(pqxx::connection& c);

/// The version recorded in SchemaVersion; 0 when there is no SchemaVersion table.
int schemaVersion(pqxx::connection& c);

/// How long initSchema waits for another process's migration to finish.
inline constexpr std::chrono::minutes schemaLockTimeout{10};

/// One SQL file of src/db/sql/, embedded at build time: path relative to that folder, text.
struct EmbeddedSqlFile {
    std::string_view path;
    std::string_view text;
};

/// Every embedded SQL file, sorted by path (defined in the generated embedded_sql.cc).
std::span<const EmbeddedSqlFile> embeddedSqlFiles();

} // namespace hydra::db

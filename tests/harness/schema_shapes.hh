#pragma once
// Schema shapes for upgrade tests: Hydra's older schema versions made from a fresh 87, this
// project's early 87, and the catalog compared with Hydra's 87 (tests/data/hydra-schema-87).

#include <pqxx/connection>
#include <string>

namespace hydra::test {

/// Turns a database holding exactly schema 87 into Hydra's schema `version` (80..87) as
/// Hydra's own releases left it, SchemaVersion included.
void downgradeSchema(pqxx::connection& c, int version);

/// Creates, on an empty database, the schema this project's first releases recorded as 87
/// (from Hydra's 87, undoing what the repair does).
void createEarlySchema87(pqxx::connection& c);

/// Every line in which the database's catalog differs from Hydra's schema 87 ("missing: ..."
/// or "extra: ..."), with the notify functions, pg_trgm and NrBuilds' seed; empty if none.
std::string catalogDifferences(pqxx::connection& c);

} // namespace hydra::test

#include "db/daemon_database.hh"

#include "db/connect.hh"
#include "db/schema.hh"
#include "util/logging.hh"
#include "util/stop_signals.hh"

#include <algorithm>

namespace hydra::db {

std::string schemaMismatch(int found, int known)
{
    if (found == known) return {};
    if (found == 0) return "the database holds no hydra schema: run 'hydra init'";
    if (found < known)
        return fmt::format("database schema version {} is older than this hydra's ({}): run 'hydra init' to "
                           "upgrade it",
                           found, known);
    return fmt::format("database schema version {} is newer than this hydra supports ({}); upgrade hydra",
                       found, known);
}

void requireKnownSchema(pqxx::connection& c)
{
    auto refusal = schemaMismatch(schemaVersion(c), latestSchemaVersion());
    if (!refusal.empty()) throw SchemaError(refusal);
}

std::optional<std::string> openDaemonDatabase(std::string_view program, const DatabaseSource& source,
                                              const std::stop_token& stop, ReachBackoff backoff)
{
    log::info("{}: using {}", program, source.describe());
    auto wait = backoff.first;
    while (!stop.stop_requested()) {
        try {
            auto conn = source.connect(/*startPrivate=*/true);
            requireKnownSchema(*conn);
            return source.conninfo(/*startPrivate=*/false);
        } catch (const DatabaseUnreachable& e) {
            log::error("{}: {}; retrying in {:g} s", program, e.what(),
                       std::chrono::duration<double>(wait).count());
        }
        if (!sleepUnlessStopped(stop, wait)) break;
        wait = std::min(wait * 2, backoff.max);
    }
    log::info("{}: stopped before the database could be reached", program);
    return std::nullopt;
}

} // namespace hydra::db

#include "db/schema.hh"

#include "util/logging.hh"

#include <algorithm>
#include <charconv>
#include <pqxx/pqxx>
#include <thread>

namespace hydra::db {

namespace {

// Key of the session advisory lock that serialises schema changes ("hydraSQL" in ASCII).
// PostgreSQL scopes advisory locks to one database, so databases do not block each other.
constexpr long long schemaLockKey = 0x6879647261535154LL;

std::string_view embeddedFile(std::string_view path)
{
    for (auto& f : embeddedSqlFiles())
        if (f.path == path) return f.text;
    throw Error("SQL file {} is not embedded in this build", path);
}

// "0088-add-foo.sql" -> {88, "add-foo"}; a misnamed file is a build mistake.
Migration parseMigrationFile(const EmbeddedSqlFile& f)
{
    std::string_view file = f.path.substr(f.path.rfind('/') + 1);
    int version = 0;
    auto [end, ec] = std::from_chars(file.data(), file.data() + file.size(), version);
    std::string_view rest = file.substr(static_cast<size_t>(end - file.data()));
    if (ec != std::errc() || !rest.starts_with('-') || !rest.ends_with(".sql") || rest.size() <= 5)
        throw Error("src/db/sql/{}: a migration must be named NNNN-name.sql", f.path);
    return Migration{version, rest.substr(1, rest.size() - 5), f.text};
}

// The first line of a libpq error, which is the one naming the failure.
std::string firstLine(const std::exception& e)
{
    std::string s = e.what();
    return s.substr(0, s.find('\n'));
}

bool tableExists(pqxx::connection& c, std::string_view lowerName)
{
    pqxx::nontransaction n(c);
    return n
        .exec_params1("SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_tables "
                      "WHERE schemaname = current_schema() AND tablename = $1)",
                      std::string(lowerName))[0]
        .as<bool>();
}

int countTables(pqxx::connection& c)
{
    pqxx::nontransaction n(c);
    return n.exec1("SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = current_schema()")[0]
        .as<int>();
}

// This project's first releases recorded version 87 for a schema of their own making; only
// they created this trigger function.
bool hasEarlyShape(pqxx::connection& c)
{
    pqxx::nontransaction n(c);
    return n
        .exec1("SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_proc "
               "WHERE proname = 'fillbuildjobsetnames' AND pronamespace = current_schema()::regnamespace)")[0]
        .as<bool>();
}

// Holds the schema advisory lock of the connection's session while it lives.
class SchemaLock {
public:
    explicit SchemaLock(pqxx::connection& c) : c_(c)
    {
        auto deadline = std::chrono::steady_clock::now() + schemaLockTimeout;
        bool logged = false;
        while (!tryLock()) {
            if (std::chrono::steady_clock::now() > deadline)
                throw TimeoutError("database {}: another process has been changing the schema for more "
                                   "than {} minutes; giving up waiting for it",
                                   c_.dbname(), schemaLockTimeout.count());
            if (!logged)
                log::info("database {}: waiting for another process to finish changing the schema",
                          c_.dbname());
            logged = true;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
    }
    SchemaLock(const SchemaLock&) = delete;
    SchemaLock& operator=(const SchemaLock&) = delete;
    ~SchemaLock()
    {
        try {
            pqxx::nontransaction n(c_);
            n.exec(fmt::format("SELECT pg_advisory_unlock({})", schemaLockKey));
        } catch (const std::exception& e) {
            // A lost connection releases the lock by itself.
            log::warn("database {}: cannot release the schema lock: {}", c_.dbname(), firstLine(e));
        }
    }

private:
    bool tryLock()
    {
        pqxx::nontransaction n(c_);
        return n.exec1(fmt::format("SELECT pg_try_advisory_lock({})", schemaLockKey))[0].as<bool>();
    }
    pqxx::connection& c_;
};

// Runs `sql` and records `version`, both in one transaction: a failure leaves the old version.
void applyInTransaction(pqxx::connection& c, std::string_view what, std::string_view sql, int version,
                        bool fresh)
{
    try {
        pqxx::work w(c);
        w.exec(std::string(sql));
        if (fresh)
            w.exec(fmt::format("INSERT INTO SchemaVersion (version) VALUES ({})", version));
        else
            w.exec(fmt::format("UPDATE SchemaVersion SET version = {}", version));
        w.commit();
    } catch (const pqxx::sql_error& e) {
        throw SchemaError("database {}: {} failed, schema left unchanged: {}", c.dbname(), what,
                          firstLine(e));
    }
    log::info("database {}: {} applied (schema version {})", c.dbname(), what, version);
}

void checkMigrationList(const std::vector<Migration>& migrations, int baseVersion)
{
    if (!migrations.empty() && migrations.front().version > baseVersion + 1)
        throw Error("schema migrations must start at version {} or below, not {} ({})", baseVersion + 1,
                    migrations.front().version, migrations.front().name);
    for (size_t i = 1; i < migrations.size(); ++i)
        if (migrations[i].version != migrations[i - 1].version + 1)
            throw Error("schema migrations must be numbered consecutively: {} ({}) follows {} ({})",
                        migrations[i].version, migrations[i].name, migrations[i - 1].version,
                        migrations[i - 1].name);
}

// Refuses versions this program cannot bring up to `latest`.
void checkUpgradable(pqxx::connection& c, int current, int baseVersion, int latest,
                     const std::vector<Migration>& migrations)
{
    if (current > latest)
        throw SchemaError("database schema version {} is newer than this hydra supports ({}); upgrade hydra",
                          current, latest);
    if (current >= baseVersion) return;
    int oldest = migrations.empty() ? baseVersion : std::min(baseVersion, migrations.front().version - 1);
    if (current < oldest)
        throw SchemaError(
            "database {}: schema version {} is older than {}, the oldest this hydra can upgrade; "
            "run Hydra's own hydra-init to upgrade it to version {} first",
            c.dbname(), current, oldest, oldest);
}

InitResult initLocked(pqxx::connection& c, std::string_view baseSql, int baseVersion,
                      const std::vector<Migration>& migrations)
{
    int latest = std::max(baseVersion, migrations.empty() ? 0 : migrations.back().version);
    InitResult result{schemaVersion(c), 0, 0};
    int current = result.fromVersion;
    if (current == 0) {
        if (int n = countTables(c); n > 0)
            throw SchemaError(
                "database {} has {} tables but no SchemaVersion table, so it was not created by "
                "Hydra (or has been damaged); refusing to change it",
                c.dbname(), n);
        applyInTransaction(c, fmt::format("base schema (Hydra version {})", baseVersion), baseSql,
                           baseVersion, true);
        current = baseVersion;
        result.applied = 1;
    }
    checkUpgradable(c, current, baseVersion, latest, migrations);
    for (auto& m : migrations) {
        if (m.version <= current) continue;
        applyInTransaction(c, fmt::format("migration {} ({})", m.version, m.name), m.sql, m.version, false);
        current = m.version;
        ++result.applied;
    }
    if (current >= baseVersion && hasEarlyShape(c)) {
        applyInTransaction(c, "repair of a schema 87 written by an early release of this project",
                           embeddedFile("repairs/early-87.sql"), current, false);
        ++result.applied;
    }
    result.toVersion = current;
    return result;
}

int webSchemaVersion(pqxx::connection& c)
{
    pqxx::nontransaction n(c);
    if (!n.exec1("SELECT to_regclass('hydra_web.schemaversion') IS NOT NULL")[0].as<bool>()) return 0;
    auto r = n.exec("SELECT version FROM hydra_web.SchemaVersion");
    return r.empty() ? 0 : r[0][0].as<int>();
}

// hydra-server's tables (schema hydra_web) follow their own numbered migrations, recorded in
// hydra_web.SchemaVersion, so that public.SchemaVersion stays Hydra's.
int applyWebMigrations(pqxx::connection& c)
{
    int current = webSchemaVersion(c);
    int applied = 0;
    for (auto& f : embeddedSqlFiles()) {
        if (!f.path.starts_with("web/")) continue;
        auto m = parseMigrationFile(f);
        if (m.version <= current) continue;
        try {
            pqxx::work w(c);
            w.exec(std::string(m.sql));
            w.exec(current == 0 ? fmt::format("INSERT INTO hydra_web.SchemaVersion VALUES ({})", m.version)
                                : fmt::format("UPDATE hydra_web.SchemaVersion SET version = {}", m.version));
            w.commit();
        } catch (const pqxx::sql_error& e) {
            throw SchemaError("database {}: web migration {} ({}) failed, left unchanged: {}", c.dbname(),
                              m.version, m.name, firstLine(e));
        }
        log::info("database {}: web migration {} ({}) applied", c.dbname(), m.version, m.name);
        current = m.version;
        ++applied;
    }
    return applied;
}

} // namespace

std::vector<Migration> builtinMigrations()
{
    std::vector<Migration> out;
    for (auto& f : embeddedSqlFiles())
        if (f.path.starts_with("migrations/")) out.push_back(parseMigrationFile(f));
    std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.version < b.version; });
    return out;
}

int latestSchemaVersion()
{
    auto migrations = builtinMigrations();
    return migrations.empty() ? baseSchemaVersion : std::max(baseSchemaVersion, migrations.back().version);
}

int schemaVersion(pqxx::connection& c)
{
    if (!tableExists(c, "schemaversion")) return 0;
    pqxx::nontransaction n(c);
    auto r = n.exec("SELECT version FROM SchemaVersion");
    if (r.size() != 1)
        throw SchemaError("database {}: the SchemaVersion table has {} rows instead of one", c.dbname(),
                          r.size());
    return r[0][0].as<int>();
}

InitResult initSchema(pqxx::connection& c)
{
    auto migrations = builtinMigrations();
    return initSchema(c, embeddedFile("base.sql"), baseSchemaVersion, migrations);
}

InitResult initSchema(pqxx::connection& c, std::string_view baseSql, int baseVersion,
                      const std::vector<Migration>& migrations)
{
    checkMigrationList(migrations, baseVersion);
    SchemaLock lock(c);
    auto result = initLocked(c, baseSql, baseVersion, migrations);
    result.webApplied = applyWebMigrations(c);
    return result;
}

int initWebSchema(pqxx::connection& c)
{
    SchemaLock lock(c);
    return applyWebMigrations(c);
}

} // namespace hydra::db

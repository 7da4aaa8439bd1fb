// Which database the environment names (HYDRA_DATABASE_URL, HYDRA_DBI, the private cluster),
// and the one-line refusal of a schema version a daemon does not know.

#include "db/connect.hh"
#include "db/daemon_database.hh"
#include "db/database_source.hh"
#include "util/error.hh"

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <map>

using hydra::db::DatabaseSource;

namespace {

using Env = std::map<std::string, std::string, std::less<>>;

DatabaseSource fromEnv(const Env& env, const std::string& dataDir = "/var/lib/hydra")
{
    return DatabaseSource::fromEnvironment(dataDir, [&](std::string_view name) -> std::optional<std::string> {
        auto it = env.find(name);
        if (it == env.end()) return std::nullopt;
        return it->second;
    });
}

std::string errorOf(const Env& env)
{
    try {
        fromEnv(env);
    } catch (const hydra::Error& e) {
        return e.what();
    }
    ADD_FAILURE() << "no error";
    return {};
}

// What libpq itself makes of a connection string: keyword -> value.
std::map<std::string, std::string> libpqParams(const std::string& conninfo)
{
    char* err = nullptr;
    PQconninfoOption* opts = PQconninfoParse(conninfo.c_str(), &err);
    if (!opts) {
        std::string msg = err ? err : "?";
        PQfreemem(err);
        ADD_FAILURE() << "libpq rejects " << conninfo << ": " << msg;
        return {};
    }
    std::map<std::string, std::string> out;
    for (auto* o = opts; o->keyword; ++o)
        if (o->val) out[o->keyword] = o->val;
    PQconninfoFree(opts);
    return out;
}

} // namespace

TEST(DatabaseSource, PercentEncodedSocketUrlReachesLibpqUnchanged)
{
    const std::string url = "postgresql://hydra@%2Frun%2Fpostgresql/hydra";
    auto source = fromEnv({{"HYDRA_DATABASE_URL", url}});
    EXPECT_TRUE(source.external());
    EXPECT_EQ(source.variable(), "HYDRA_DATABASE_URL");
    EXPECT_EQ(source.conninfo(/*startPrivate=*/false), url);
    // What is actually handed to libpq still names the socket directory.
    auto params = libpqParams(hydra::db::withConnectTimeout(source.conninfo(false)));
    EXPECT_EQ(params["host"], "/run/postgresql");
    EXPECT_EQ(params["user"], "hydra");
    EXPECT_EQ(params["dbname"], "hydra");
    EXPECT_EQ(params["connect_timeout"], "10");
}

TEST(DatabaseSource, HostInQueryStringIsKept)
{
    auto source = fromEnv({{"HYDRA_DATABASE_URL", "postgresql:///hydra?host=/run/postgresql"}});
    auto params = libpqParams(hydra::db::withConnectTimeout(source.conninfo(false)));
    EXPECT_EQ(params["host"], "/run/postgresql");
    EXPECT_EQ(params["dbname"], "hydra");
}

TEST(DatabaseSource, DatabaseUrlWinsOverDbi)
{
    auto source = fromEnv({{"HYDRA_DATABASE_URL", "postgresql:///a"}, {"HYDRA_DBI", "dbi:Pg:dbname=b"}});
    EXPECT_EQ(source.variable(), "HYDRA_DATABASE_URL");
    EXPECT_EQ(source.conninfo(false), "postgresql:///a");
}

TEST(DatabaseSource, DbiWhenNoUrlOrAnEmptyOne)
{
    for (const Env& env : {Env{{"HYDRA_DBI", "dbi:Pg:dbname=b;host=/run/pg"}},
                           Env{{"HYDRA_DATABASE_URL", ""}, {"HYDRA_DBI", "dbi:Pg:dbname=b;host=/run/pg"}}}) {
        auto source = fromEnv(env);
        EXPECT_EQ(source.variable(), "HYDRA_DBI");
        EXPECT_EQ(source.conninfo(false), "dbname='b' host='/run/pg'");
    }
}

TEST(DatabaseSource, PrivateClusterWhenNeitherVariableIsSet)
{
    auto source = fromEnv({{"HYDRA_DBI", ""}}, "/srv/hydra");
    EXPECT_FALSE(source.external());
    EXPECT_EQ(source.describe(), "the private cluster under /srv/hydra/postgres");
    EXPECT_EQ(source.privateCluster().dataDir(), "/srv/hydra/postgres");
}

TEST(DatabaseSource, NoDatabaseAndNoStateDirectoryIsAnError)
{
    try {
        fromEnv({}, "");
        ADD_FAILURE() << "no error";
    } catch (const hydra::Error& e) {
        std::string msg = e.what();
        for (const auto* named : {"HYDRA_DATABASE_URL", "HYDRA_DBI", "HYDRA_DATA"})
            EXPECT_NE(msg.find(named), std::string::npos) << msg;
    }
}

TEST(DatabaseSource, DescriptionNamesTheVariableAndHidesThePassword)
{
    auto source = fromEnv({{"HYDRA_DATABASE_URL", "postgresql://hydra:s3cret@db.example.org/hydra"}});
    EXPECT_EQ(source.describe(),
              "the database named by HYDRA_DATABASE_URL (postgresql://hydra:***@db.example.org/hydra)");
    auto dbi = fromEnv({{"HYDRA_DBI", "dbi:Pg:dbname=hydra;password=s3cret"}});
    EXPECT_EQ(dbi.describe(), "the database named by HYDRA_DBI (dbname='hydra' password=***)");
}

TEST(DatabaseSource, MalformedUrlNamesTheVariableNotThePassword)
{
    for (const auto* bad :
         {"mysql://hydra@localhost/hydra", "postgresql://hydra:s3cret@host/db?nosuchparam=1",
          "postgresql://hydra:s3cr%zzet@host/db", "   "}) {
        auto msg = errorOf({{"HYDRA_DATABASE_URL", bad}, {"HYDRA_DBI", "dbi:Pg:dbname=hydra"}});
        EXPECT_TRUE(msg.starts_with("HYDRA_DATABASE_URL is not a PostgreSQL connection URL")) << msg;
        EXPECT_EQ(msg.find("s3cr"), std::string::npos) << msg;
        EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    }
}

TEST(DatabaseSource, MalformedDbiNamesTheVariable)
{
    auto msg = errorOf({{"HYDRA_DBI", "dbi:mysql:dbname=hydra"}});
    EXPECT_TRUE(msg.starts_with("HYDRA_DBI: ")) << msg;
}

TEST(SchemaMismatch, OneLineNamingBothVersionsAndWhatToDo)
{
    using hydra::db::schemaMismatch;
    EXPECT_EQ(schemaMismatch(87, 87), "");
    EXPECT_EQ(schemaMismatch(85, 87),
              "database schema version 85 is older than this hydra's (87): run 'hydra init' to upgrade it");
    EXPECT_EQ(schemaMismatch(99, 87),
              "database schema version 99 is newer than this hydra supports (87); upgrade hydra");
    EXPECT_EQ(schemaMismatch(0, 87), "the database holds no hydra schema: run 'hydra init'");
}

// initSchema: creates version 87 on an empty database, changes nothing on a second run,
// applies migrations once each, refuses databases it cannot handle, and is safe to run twice
// at the same moment.

#include "db/schema.hh"
#include "harness/pg_fixture.hh"
#include "util/process.hh"

#include <gtest/gtest.h>
#include <pqxx/pqxx>
#include <set>
#include <string>
#include <thread>
#include <vector>

using hydra::db::InitResult;
using hydra::db::Migration;
using hydra::db::SchemaError;
using hydra::test::PgCluster;

namespace {

std::string baseSql()
{
    for (auto& f : hydra::db::embeddedSqlFiles())
        if (f.path == "base.sql") return std::string(f.text);
    throw std::runtime_error("base.sql is not embedded");
}

class MigrateTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        conninfo_ = PgCluster::get().conninfo(PgCluster::get().freshDatabase());
        c_ = std::make_unique<pqxx::connection>(conninfo_);
    }

    std::set<std::string> tables()
    {
        pqxx::nontransaction n(*c_);
        std::set<std::string> out;
        for (auto row : n.exec("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))
            out.insert(row[0].as<std::string>());
        return out;
    }

    void exec(const std::string& sql) { pqxx::nontransaction(*c_).exec(sql); }

    // The whole schema as pg_dump prints it: any change to a table, index, trigger or function
    // shows. Newer pg_dumps wrap the dump in \restrict lines with a random key: left out.
    std::string dumpSchema()
    {
        std::string dump =
            hydra::runChecked({.argv = {"pg_dump", "--schema-only", "--no-owner", "-d", conninfo_}});
        std::string out;
        for (size_t pos = 0, eol; pos < dump.size(); pos = eol + 1) {
            eol = std::min(dump.find('\n', pos), dump.size());
            std::string_view line(dump.data() + pos, eol - pos);
            if (!line.starts_with("\\restrict") && !line.starts_with("\\unrestrict"))
                out.append(line) += '\n';
        }
        return out;
    }

    std::string conninfo_;
    std::unique_ptr<pqxx::connection> c_;
};

// Every table of Hydra's schema at version 87 (PostgreSQL folds names to lower case).
std::set<std::string> expectedTables()
{
    return {"aggregateconstituents",
            "buildinputs",
            "buildmetrics",
            "buildoutputs",
            "buildproducts",
            "builds",
            "buildstepoutputs",
            "buildsteps",
            "cachedbazaarinputs",
            "cachedcvsinputs",
            "cacheddarcsinputs",
            "cachedgitinputs",
            "cachedhginputs",
            "cachedpathinputs",
            "cachedsubversioninputs",
            "evaluationerrors",
            "failedpaths",
            "jobsetevalinputs",
            "jobsetevalmembers",
            "jobsetevals",
            "jobsetinputalts",
            "jobsetinputs",
            "jobsetrenames",
            "jobsets",
            "newsitems",
            "nrbuilds",
            "projectmembers",
            "projects",
            "runcommandlogs",
            "schemaversion",
            "starredjobs",
            "systemstatus",
            "taskretries",
            "urirevmapper",
            "userroles",
            "users"};
}

TEST_F(MigrateTest, FreshDatabaseGetsVersion87AndEveryTable)
{
    EXPECT_EQ(hydra::db::schemaVersion(*c_), 0);
    InitResult r = hydra::db::initSchema(*c_);
    EXPECT_EQ(r.fromVersion, 0);
    EXPECT_EQ(r.toVersion, hydra::db::latestSchemaVersion());
    EXPECT_EQ(hydra::db::latestSchemaVersion(), 87);
    EXPECT_EQ(hydra::db::schemaVersion(*c_), 87);
    EXPECT_EQ(tables(), expectedTables());
    pqxx::nontransaction n(*c_);
    EXPECT_EQ(n.exec1("SELECT count FROM NrBuilds WHERE what = 'finished'")[0].as<int>(), 0);
    EXPECT_EQ(n.exec1("SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal")[0].as<int>(), 9);
}

TEST_F(MigrateTest, SecondInitChangesNothing)
{
    hydra::db::initSchema(*c_);
    std::string before = dumpSchema();
    InitResult r = hydra::db::initSchema(*c_);
    EXPECT_EQ(r.fromVersion, 87);
    EXPECT_EQ(r.toVersion, 87);
    EXPECT_EQ(r.applied, 0);
    EXPECT_EQ(dumpSchema(), before);
    EXPECT_NE(before.find("CREATE TRIGGER buildcancelled"), std::string::npos);
}

TEST_F(MigrateTest, AMigrationIsAppliedOnceAndRecorded)
{
    std::vector<Migration> migrations = {
        {88, "add-widgets",
         "CREATE TABLE Widgets (id serial primary key); INSERT INTO Widgets DEFAULT VALUES;"}};
    hydra::db::initSchema(*c_); // an existing version-87 database
    InitResult r = hydra::db::initSchema(*c_, baseSql(), 87, migrations);
    EXPECT_EQ(r.fromVersion, 87);
    EXPECT_EQ(r.toVersion, 88);
    EXPECT_EQ(r.applied, 1);
    r = hydra::db::initSchema(*c_, baseSql(), 87, migrations);
    EXPECT_EQ(r.applied, 0);
    EXPECT_EQ(hydra::db::schemaVersion(*c_), 88);
    pqxx::nontransaction n(*c_);
    EXPECT_EQ(n.exec1("SELECT count(*) FROM Widgets")[0].as<int>(), 1); // ran once
}

TEST_F(MigrateTest, FreshDatabaseGetsBaseThenMigrations)
{
    std::vector<Migration> migrations = {{88, "a", "CREATE TABLE A88 (x int);"},
                                         {89, "b", "ALTER TABLE A88 ADD COLUMN y int;"}};
    InitResult r = hydra::db::initSchema(*c_, baseSql(), 87, migrations);
    EXPECT_EQ(r.fromVersion, 0);
    EXPECT_EQ(r.toVersion, 89);
    EXPECT_EQ(r.applied, 3);
    EXPECT_EQ(hydra::db::schemaVersion(*c_), 89);
}

TEST_F(MigrateTest, AFailingMigrationLeavesTheDatabaseAsItWas)
{
    hydra::db::initSchema(*c_);
    std::vector<Migration> migrations = {
        {88, "broken", "CREATE TABLE Half (x int); SELECT no_such_function();"}};
    EXPECT_THROW(hydra::db::initSchema(*c_, baseSql(), 87, migrations), SchemaError);
    EXPECT_EQ(hydra::db::schemaVersion(*c_), 87);
    EXPECT_EQ(tables().count("half"), 0u);
}

TEST_F(MigrateTest, NewerDatabaseIsRefused)
{
    hydra::db::initSchema(*c_);
    exec("UPDATE SchemaVersion SET version = 99");
    std::string before = dumpSchema();
    try {
        hydra::db::initSchema(*c_);
        FAIL() << "a version-99 database was accepted";
    } catch (const SchemaError& e) {
        EXPECT_STREQ(e.what(),
                     "database schema version 99 is newer than this hydra supports (87); upgrade hydra");
    }
    EXPECT_EQ(hydra::db::schemaVersion(*c_), 99);
    EXPECT_EQ(dumpSchema(), before);
}

TEST_F(MigrateTest, OlderDatabaseWithoutAPathIsRefused)
{
    hydra::db::initSchema(*c_);
    exec("UPDATE SchemaVersion SET version = 80");
    try {
        hydra::db::initSchema(*c_, baseSql(), 87, {});
        FAIL() << "a version-80 database was accepted without migrations";
    } catch (const SchemaError& e) {
        std::string msg = e.what();
        EXPECT_NE(msg.find("schema version 80 is older than 87"), std::string::npos) << msg;
        EXPECT_NE(msg.find("hydra-init"), std::string::npos) << msg;
    }
    EXPECT_EQ(hydra::db::schemaVersion(*c_), 80);
}

TEST_F(MigrateTest, OlderDatabaseWithAPathIsUpgraded)
{
    hydra::db::initSchema(*c_);
    exec("UPDATE SchemaVersion SET version = 86");
    std::vector<Migration> migrations = {{87, "to-87", "CREATE TABLE T87 (x int);"},
                                         {88, "to-88", "CREATE TABLE T88 (x int);"}};
    InitResult r = hydra::db::initSchema(*c_, baseSql(), 87, migrations);
    EXPECT_EQ(r.fromVersion, 86);
    EXPECT_EQ(r.toVersion, 88);
    EXPECT_EQ(r.applied, 2);
    EXPECT_EQ(tables().count("t87"), 1u);
}

TEST_F(MigrateTest, TablesWithoutSchemaVersionAreLeftAlone)
{
    exec("CREATE TABLE Builds (id int)");
    EXPECT_THROW(hydra::db::initSchema(*c_), SchemaError);
    EXPECT_EQ(tables(), std::set<std::string>{"builds"});
}

TEST_F(MigrateTest, GappedMigrationListIsAProgrammingError)
{
    std::vector<Migration> migrations = {{88, "a", "SELECT 1;"}, {90, "c", "SELECT 1;"}};
    EXPECT_THROW(hydra::db::initSchema(*c_, baseSql(), 87, migrations), hydra::Error);
    EXPECT_EQ(hydra::db::schemaVersion(*c_), 0);
}

TEST_F(MigrateTest, ConcurrentInitsOnAnEmptyDatabaseBothSucceed)
{
    for (int round = 0; round < 3; ++round) {
        std::string conninfo = PgCluster::get().conninfo(PgCluster::get().freshDatabase());
        pqxx::connection a(conninfo), b(conninfo);
        InitResult ra{}, rb{};
        std::string errA, errB;
        auto run = [](pqxx::connection& c, InitResult& r, std::string& err) {
            try {
                r = hydra::db::initSchema(c);
            } catch (const std::exception& e) {
                err = e.what();
            }
        };
        {
            std::jthread ta([&] { run(a, ra, errA); });
            std::jthread tb([&] { run(b, rb, errB); });
        }
        EXPECT_EQ(errA, "");
        EXPECT_EQ(errB, "");
        EXPECT_EQ(ra.applied + rb.applied, 1); // exactly one created the schema
        EXPECT_EQ(ra.toVersion, 87);
        EXPECT_EQ(rb.toVersion, 87);
        pqxx::nontransaction n(a);
        EXPECT_EQ(n.exec1("SELECT count(*) FROM SchemaVersion")[0].as<int>(), 1);
        EXPECT_EQ(n.exec1("SELECT count(*) FROM NrBuilds")[0].as<int>(), 1);
    }
}

} // namespace

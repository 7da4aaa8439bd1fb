// The schema `hydra init` leaves reads as Hydra's schema 87 in PostgreSQL's catalog: on an empty
// database, on every older Hydra schema from 80 (rows kept), and on the schema that this
// project's first releases recorded as 87.

#include "db/schema.hh"
#include "harness/pg_fixture.hh"
#include "harness/schema_shapes.hh"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <pqxx/pqxx>
#include <string>

using hydra::test::catalogDifferences;
using hydra::test::PgCluster;

namespace {

class SchemaShapesTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        c_ = std::make_unique<pqxx::connection>(PgCluster::get().conninfo(PgCluster::get().freshDatabase()));
    }

    void exec(const std::string& sql)
    {
        pqxx::work t(*c_);
        t.exec(sql);
        t.commit();
    }

    template <typename T> T query1(const std::string& sql)
    {
        pqxx::read_transaction t(*c_);
        return t.exec1(sql)[0].as<T>();
    }

    // Rows as an older schema holds them, using only columns every shape has; a substitution
    // step without a derivation where the shape allows one.
    void insertRows(bool stepWithoutDrv, bool withUuid)
    {
        exec("INSERT INTO Users (userName, emailAddress, password) VALUES ('alice', 'a@example.org', '!');"
             "INSERT INTO Projects (name, displayName, owner) VALUES ('p', 'P', 'alice');"
             "INSERT INTO Jobsets (project, name, nixExprInput, nixExprPath, emailOverride) "
             "  VALUES ('p', 'js', 'src', 'release.nix', '');"
             "INSERT INTO Builds (id, finished, timestamp, jobset_id, job, drvPath, system, startTime, "
             "  stopTime, buildStatus, isCachedBuild) VALUES (7, 1, 1700000000, "
             "  (SELECT id FROM Jobsets), 'hello', '/nix/store/aaaa-hello.drv', 'x86_64-linux', "
             "  1700000001, 1700000002, 0, 0);"
             "INSERT INTO BuildOutputs (build, name, path) VALUES (7, 'out', '/nix/store/bbbb-hello');"
             "INSERT INTO BuildSteps (build, stepnr, type, drvPath, busy, status, startTime, stopTime) "
             "  VALUES (7, 1, 0, '/nix/store/aaaa-hello.drv', 0, 0, 1700000001, 1700000002);"
             "INSERT INTO BuildStepOutputs (build, stepnr, name, path) "
             "  VALUES (7, 1, 'out', '/nix/store/bbbb-hello');"
             "INSERT INTO JobsetEvals (id, jobset_id, timestamp, checkoutTime, evalTime, hasNewBuilds, hash) "
             "  VALUES (3, (SELECT id FROM Jobsets), 1700000000, 1, 2, 1, 'h');"
             "INSERT INTO JobsetEvalInputs (eval, name, altNr, type, revision) "
             "  VALUES (3, 'src', 0, 'git', '0123456789abcdef0123456789abcdef01234567');"
             "INSERT INTO JobsetEvalMembers (eval, build, isNew) VALUES (3, 7, 1);");
        if (stepWithoutDrv)
            exec("INSERT INTO BuildSteps (build, stepnr, type, drvPath, busy, status, startTime, stopTime) "
                 "VALUES (7, 2, 1, NULL, 0, 0, 1700000001, 1700000001)");
        exec(fmt::format("INSERT INTO RunCommandLogs (job_matcher, build_id, command, start_time, end_time, "
                         "exit_code{}) VALUES ('*:*:*', 7, 'true', 1700000003, 1700000004, 0{})",
                         withUuid ? ", uuid" : "", withUuid ? ", gen_random_uuid()" : ""));
    }

    // Every row inserted above is still there with its values.
    void expectRowsKept(bool stepWithoutDrv)
    {
        EXPECT_EQ(query1<long long>("SELECT stopTime FROM Builds WHERE id = 7"), 1700000002);
        EXPECT_EQ(
            query1<std::string>("SELECT p.name || '/' || j.name || '/' || b.job FROM Builds b "
                                "JOIN Jobsets j ON j.id = b.jobset_id JOIN Projects p ON p.name = j.project"),
            "p/js/hello");
        EXPECT_EQ(query1<std::string>("SELECT path FROM BuildOutputs WHERE build = 7"),
                  "/nix/store/bbbb-hello");
        EXPECT_EQ(query1<std::string>("SELECT path FROM BuildStepOutputs WHERE build = 7"),
                  "/nix/store/bbbb-hello");
        EXPECT_EQ(query1<long long>("SELECT count(*) FROM BuildSteps WHERE resolvedDrvPath IS NULL"),
                  stepWithoutDrv ? 2 : 1);
        if (stepWithoutDrv) {
            EXPECT_EQ(query1<std::string>("SELECT drvPath FROM BuildSteps WHERE build = 7 AND stepnr = 2"),
                      "/nix/store/00000000000000000000000000000000-placeholder-of-build-7-step-2.drv");
        }
        EXPECT_EQ(query1<long long>("SELECT count(*) FROM JobsetEvalInputs WHERE shortRevLength IS NULL"), 1);
        EXPECT_EQ(query1<long long>("SELECT count(*) FROM RunCommandLogs WHERE uuid IS NOT NULL AND "
                                    "end_time = 1700000004"),
                  1);
        EXPECT_FALSE(query1<bool>("SELECT enable_dynamic_run_command FROM Projects"));
        EXPECT_FALSE(query1<bool>("SELECT enable_dynamic_run_command FROM Jobsets"));
        EXPECT_EQ(query1<int>("SELECT count FROM NrBuilds WHERE what = 'finished'"), 1);
    }

    std::unique_ptr<pqxx::connection> c_;
};

TEST_F(SchemaShapesTest, FreshDatabaseReadsAsHydraSchema87)
{
    hydra::db::initSchema(*c_);
    EXPECT_EQ(catalogDifferences(*c_), "");
}

TEST_F(SchemaShapesTest, TheComparisonSeesADifference)
{
    hydra::db::initSchema(*c_);
    exec("ALTER TABLE Builds ALTER COLUMN stopTime TYPE bigint");
    auto diff = catalogDifferences(*c_);
    EXPECT_NE(diff.find("missing (columns.txt): builds|stoptime|integer|YES|"), std::string::npos) << diff;
    EXPECT_NE(diff.find("extra (columns.txt): builds|stoptime|bigint|YES|"), std::string::npos) << diff;
}

class SchemaUpgradeTest : public SchemaShapesTest, public ::testing::WithParamInterface<int> {};

TEST_P(SchemaUpgradeTest, HydraSchemaIsUpgradedTo87WithItsRows)
{
    int from = GetParam();
    hydra::db::initSchema(*c_);
    hydra::test::downgradeSchema(*c_, from);
    insertRows(from < 86, from >= 81);
    auto r = hydra::db::initSchema(*c_);
    EXPECT_EQ(r.fromVersion, from);
    EXPECT_EQ(r.toVersion, 87);
    EXPECT_EQ(r.applied, 87 - from);
    EXPECT_EQ(catalogDifferences(*c_), "");
    expectRowsKept(from < 86);
    EXPECT_EQ(hydra::db::initSchema(*c_).applied, 0);
}

INSTANTIATE_TEST_SUITE_P(From80To86, SchemaUpgradeTest, ::testing::Range(80, 87));

TEST_F(SchemaShapesTest, EarlyReleasesSchemaIsRepairedWithItsRows)
{
    hydra::test::createEarlySchema87(*c_);
    insertRows(true, true);
    EXPECT_EQ(query1<std::string>("SELECT project FROM Builds"), "p"); // the early shape's own column
    auto r = hydra::db::initSchema(*c_);
    EXPECT_EQ(r.fromVersion, 87);
    EXPECT_EQ(r.applied, 1);
    EXPECT_EQ(catalogDifferences(*c_), "");
    expectRowsKept(true);
    EXPECT_EQ(hydra::db::initSchema(*c_).applied, 0);
}

TEST_F(SchemaShapesTest, SchemaOlderThan80IsRefusedAndLeftAlone)
{
    hydra::db::initSchema(*c_);
    hydra::test::downgradeSchema(*c_, 80);
    exec("UPDATE SchemaVersion SET version = 79");
    try {
        hydra::db::initSchema(*c_);
        FAIL() << "a version-79 database was accepted";
    } catch (const hydra::db::SchemaError& e) {
        std::string msg = e.what();
        EXPECT_NE(msg.find("schema version 79 is older than 80"), std::string::npos) << msg;
        EXPECT_NE(msg.find("hydra-init"), std::string::npos) << msg;
    }
    EXPECT_EQ(hydra::db::schemaVersion(*c_), 79);
    EXPECT_EQ(query1<long long>("SELECT count(*) FROM information_schema.columns WHERE table_name = "
                                "'runcommandlogs' AND column_name = 'uuid'"),
              0);
}

} // namespace

// loadBuildDescription against a real PostgreSQL: a finished build with outputs, products and
// metrics as plugins see it, a queued build's NULLs, a renamed jobset, a build that is gone.

#include "db/build_description.hh"
#include "db/build_results.hh"
#include "db/schema.hh"
#include "harness/hydra_rows.hh"
#include "harness/pg_fixture.hh"

#include <gtest/gtest.h>

#include <memory>
#include <pqxx/pqxx>

using namespace hydra;
using namespace hydra::db;
using hydra::test::HydraRows;
using hydra::test::PgCluster;

namespace {

class BuildDescriptionTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        conn =
            std::make_unique<pqxx::connection>(PgCluster::get().conninfo(PgCluster::get().freshDatabase()));
        initSchema(*conn);
        HydraRows rows(*conn);
        jobsetId = rows.jobset("js");
        id = rows.queueBuild(jobsetId, "hello", "/nix/store/aaa-hello.drv", "/nix/store/bbb-hello");
    }

    std::optional<BuildDescription> load(BuildId b)
    {
        pqxx::work t(*conn);
        return loadBuildDescription(t, b);
    }

    std::unique_ptr<pqxx::connection> conn;
    int jobsetId = 0;
    BuildId id = 0;
};

TEST_F(BuildDescriptionTest, QueuedBuildHasNamesAndNulls)
{
    auto d = load(id);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->id, id);
    EXPECT_FALSE(d->finished);
    EXPECT_GT(d->timestamp, 0);
    EXPECT_EQ(d->project, "p");
    EXPECT_EQ(d->jobset, "js");
    EXPECT_EQ(d->jobsetId, jobsetId);
    EXPECT_EQ(d->job, "hello");
    EXPECT_EQ(d->drvPath, "/nix/store/aaa-hello.drv");
    EXPECT_EQ(d->nixName, "hello");
    EXPECT_EQ(d->system, "x86_64-linux");
    EXPECT_FALSE(d->startTime);
    EXPECT_FALSE(d->stopTime);
    EXPECT_FALSE(d->buildStatus);
    EXPECT_FALSE(d->homepage);
    EXPECT_FALSE(d->description);
    EXPECT_FALSE(d->license);
    ASSERT_EQ(d->outputs.size(), 1u);
    EXPECT_EQ(d->outputs[0].name, "out");
    EXPECT_EQ(d->outputs[0].path, "/nix/store/bbb-hello");
    EXPECT_TRUE(d->products.empty());
    EXPECT_TRUE(d->metrics.empty());
}

TEST_F(BuildDescriptionTest, FinishedBuildHasResultProductsAndMetrics)
{
    {
        pqxx::work t(*conn);
        t.exec_params("UPDATE Builds SET homepage = 'https://example.org', description = 'Says hello', "
                      "license = 'GPL' WHERE id = $1",
                      id);
        t.exec_params("INSERT INTO BuildOutputs (build, name, path) VALUES ($1, 'doc', '/nix/store/ccc-doc')",
                      id);
        SucceededBuild b;
        b.id = id;
        b.startTime = 1000;
        b.stopTime = 1010;
        b.releaseName = "hello-1.0";
        b.products = {
            {"file", "source-dist", 42, "abcd", "/nix/store/bbb-hello/x.tar", "x.tar", ""},
            {"doc", "manual", std::nullopt, std::nullopt, "/nix/store/ccc-doc", "manual", "index.html"}};
        b.metrics = {{"size", "bytes", 12.5}, {"lines", "", 3}};
        ASSERT_TRUE(markSucceededBuild(t, b));
        t.commit();
    }
    auto d = load(id);
    ASSERT_TRUE(d);
    EXPECT_TRUE(d->finished);
    EXPECT_EQ(d->startTime, 1000);
    EXPECT_EQ(d->stopTime, 1010);
    EXPECT_EQ(d->buildStatus, 0);
    EXPECT_EQ(d->homepage, "https://example.org");
    EXPECT_EQ(d->description, "Says hello");
    EXPECT_EQ(d->license, "GPL");
    EXPECT_EQ(d->releaseName, "hello-1.0");
    ASSERT_EQ(d->outputs.size(), 2u);
    EXPECT_EQ(d->outputs[0].name, "doc");
    EXPECT_EQ(d->outputs[1].name, "out");
    ASSERT_EQ(d->products.size(), 2u);
    EXPECT_EQ(d->products[0].type, "file");
    EXPECT_EQ(d->products[0].subtype, "source-dist");
    EXPECT_EQ(d->products[0].fileSize, 42);
    EXPECT_EQ(d->products[0].sha256hash, "abcd");
    EXPECT_EQ(d->products[0].path, "/nix/store/bbb-hello/x.tar");
    EXPECT_EQ(d->products[0].name, "x.tar");
    EXPECT_EQ(d->products[1].defaultPath, "index.html");
    EXPECT_FALSE(d->products[1].fileSize);
    EXPECT_FALSE(d->products[1].sha256hash);
    ASSERT_EQ(d->metrics.size(), 2u);
    EXPECT_EQ(d->metrics[0].name, "lines");
    EXPECT_EQ(d->metrics[0].unit, "");
    EXPECT_EQ(d->metrics[1].name, "size");
    EXPECT_EQ(d->metrics[1].unit, "bytes");
    EXPECT_DOUBLE_EQ(d->metrics[1].value, 12.5);
}

TEST_F(BuildDescriptionTest, RenamedJobsetShowsItsNewName)
{
    {
        pqxx::work t(*conn);
        t.exec_params("UPDATE Jobsets SET name = 'renamed' WHERE id = $1", jobsetId);
        t.commit();
    }
    auto d = load(id);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->jobset, "renamed");
}

TEST_F(BuildDescriptionTest, DeletedBuildIsNullopt)
{
    {
        pqxx::work t(*conn);
        t.exec_params("DELETE FROM Builds WHERE id = $1", id);
        t.commit();
    }
    EXPECT_FALSE(load(id));
    EXPECT_FALSE(load(id + 1000));
}

} // namespace

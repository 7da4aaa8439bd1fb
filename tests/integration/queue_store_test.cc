// The queue runner's SQL against a real PostgreSQL: queue pages (also builds committed out of
// order), build steps (distinct step numbers under concurrent creators), finishing builds
// (success, failure with dependents, cached failure, abort), start-up recovery, and the exact
// NOTIFY payloads a LISTENing program receives.

#include "db/build_results.hh"
#include "db/build_steps.hh"
#include "db/queue_notify.hh"
#include "db/queue_store.hh"
#include "db/schema.hh"
#include "harness/channel_recorder.hh"
#include "harness/pg_fixture.hh"
#include "util/error.hh"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <memory>
#include <pqxx/pqxx>
#include <set>
#include <thread>
#include <utility>
#include <vector>

using namespace hydra;
using namespace hydra::db;
using namespace std::chrono_literals;
using hydra::test::PgCluster;

namespace {

const bool sigpipeIgnored = [] { return std::signal(SIGPIPE, SIG_IGN) != SIG_ERR; }();

using test::Notes;

// The queue runner's channels, recorded as hydra-notify would receive them.
const std::vector<std::string> channels{"build_started",  "step_started",  "step_finished",
                                        "build_finished", "status_dumped", "dump_status"};

class QueueStoreTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        conninfo = PgCluster::get().conninfo(PgCluster::get().freshDatabase());
        conn = std::make_unique<pqxx::connection>(conninfo);
        initSchema(*conn);
        pqxx::work w(*conn);
        w.exec("INSERT INTO Users (userName, emailAddress, password) VALUES ('root', 'r@example.org', '!')");
        w.exec("INSERT INTO Projects (name, displayName, owner) VALUES ('proj', 'Proj', 'root')");
        jobsetId = addJobset(w, "js", 100);
        w.commit();
    }

    static int addJobset(pqxx::work& w, const std::string& name, int shares)
    {
        return w
            .exec_params("INSERT INTO Jobsets (name, project, nixExprInput, nixExprPath, schedulingShares, "
                         "emailOverride) VALUES ($1, 'proj', 'src', 'default.nix', $2, '') RETURNING id",
                         name, shares)[0][0]
            .as<int>();
    }

    // A queued build of `drv` with output `out` (BuildOutputs path known in advance).
    BuildId addBuild(pqxx::transaction_base& t, const std::string& drv, std::optional<BuildId> id = {},
                     int jobset = 0)
    {
        std::string idSql = id ? std::to_string(*id) : "DEFAULT";
        auto b =
            t.exec_params("INSERT INTO Builds (id, finished, timestamp, jobset_id, job, drvPath, system, "
                          "  priority, globalPriority) "
                          "VALUES (" +
                              idSql + ", 0, 1700000000, $1, $2, $3, 'x86_64-linux', 5, 0) RETURNING id",
                          jobset ? jobset : jobsetId, "job-" + drv, drvPath(drv))[0][0]
                .as<BuildId>();
        t.exec_params("INSERT INTO BuildOutputs (build, name, path) VALUES ($1, 'out', $2)", b, outPath(drv));
        return b;
    }
    BuildId addBuild(const std::string& drv)
    {
        pqxx::work w(*conn);
        auto id = addBuild(w, drv);
        w.commit();
        return id;
    }

    static std::string drvPath(const std::string& n)
    {
        return "/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-" + n + ".drv";
    }
    static std::string outPath(const std::string& n)
    {
        return "/nix/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-" + n;
    }

    pqxx::row buildRow(BuildId id)
    {
        pqxx::work w(*conn);
        return w.exec_params1(
            "SELECT finished, buildStatus, startTime, stopTime, isCachedBuild, "
            "  notificationPendingSince, size, closureSize, releaseName FROM Builds WHERE id = $1",
            id);
    }

    template <class F> auto inTxn(F f)
    {
        pqxx::work w(*conn);
        auto r = f(w);
        w.commit();
        return r;
    }

    std::string conninfo;
    std::unique_ptr<pqxx::connection> conn;
    int jobsetId = 0;
};

TEST_F(QueueStoreTest, LoadsQueuedBuildsInIdOrderInPagesWithSchedulingFields)
{
    std::vector<BuildId> ids;
    for (auto n : {"a", "b", "c", "d", "e"}) ids.push_back(addBuild(n));
    {
        pqxx::work w(*conn);
        w.exec_params(
            "UPDATE Builds SET finished = 1, buildStatus = 4, startTime = 1, stopTime = 1 WHERE id = $1",
            ids[1]);
        w.exec_params("UPDATE Builds SET maxsilent = NULL, timeout = 77, globalPriority = 9 WHERE id = $1",
                      ids[2]);
        w.exec("UPDATE Jobsets SET schedulingShares = 250");
        w.commit();
    }
    pqxx::read_transaction t(*conn);
    EXPECT_EQ(queuedBuildIds(t, 0), (std::vector<BuildId>{ids[0], ids[2], ids[3], ids[4]}));
    EXPECT_EQ(queuedBuildIds(t, ids[3]), (std::vector<BuildId>{ids[3], ids[4]}));
    // A page as the monitor asks for it, holding a build finished since its ids were read and
    // an id that no longer exists: both are left out, the rest come in id order.
    std::vector<BuildId> page{ids[2], ids[1], ids[0], ids[4] + 100};
    auto page1 = loadQueuedBuilds(t, page);
    ASSERT_EQ(page1.size(), 2u);
    EXPECT_EQ(page1[0].id, ids[0]);
    EXPECT_EQ(page1[1].id, ids[2]);
    auto& b = page1[1];
    EXPECT_EQ(b.drvPath, drvPath("c"));
    EXPECT_EQ(b.jobsetId, jobsetId);
    EXPECT_EQ(b.project, "proj");
    EXPECT_EQ(b.jobset, "js");
    EXPECT_EQ(b.job, "job-c");
    EXPECT_EQ(b.system, "x86_64-linux");
    EXPECT_EQ(b.globalPriority, 9);
    EXPECT_EQ(b.priority, 5);
    EXPECT_EQ(b.maxSilent, 3600);
    EXPECT_EQ(b.timeout, 77);
    EXPECT_EQ(b.timestamp, 1700000000);
    EXPECT_EQ(b.schedulingShares, 250);
    std::vector<BuildId> rest{ids[3], ids[4]};
    auto page2 = loadQueuedBuilds(t, rest);
    ASSERT_EQ(page2.size(), 2u);
    EXPECT_EQ(page2[0].id, ids[3]);
    EXPECT_EQ(page2[1].id, ids[4]);
    EXPECT_TRUE(queuedBuildIds(t, ids[4] + 1).empty());
    EXPECT_TRUE(loadQueuedBuilds(t, std::vector<BuildId>{}).empty());
}

TEST_F(QueueStoreTest, BuildCommittedOutOfOrderIsFoundFromTheLowerId)
{
    pqxx::connection other(conninfo);
    pqxx::work slow(other);
    addBuild(slow, "eleven", 11); // not committed yet
    {
        pqxx::work w(*conn);
        addBuild(w, "ten", 10);
        addBuild(w, "twelve", 12);
        w.commit();
    }
    {
        pqxx::read_transaction t(*conn);
        EXPECT_EQ(queuedBuildIds(t, 0), (std::vector<BuildId>{10, 12}));
    }
    slow.commit(); // builds_added would now carry 11
    pqxx::read_transaction t(*conn);
    auto again = loadQueuedBuilds(t, queuedBuildIds(t, 11));
    ASSERT_EQ(again.size(), 2u);
    EXPECT_EQ(again[0].id, 11);
    EXPECT_EQ(again[0].drvPath, drvPath("eleven"));
}

TEST_F(QueueStoreTest, StatesAndPrioritiesShowCancelledDeletedAndBumpedBuilds)
{
    auto a = addBuild("a"), b = addBuild("b"), c = addBuild("c");
    {
        pqxx::work w(*conn);
        w.exec_params(
            "UPDATE Builds SET finished = 1, buildStatus = 4, startTime = 5, stopTime = 5 WHERE id = $1", a);
        w.exec_params("DELETE FROM Builds WHERE id = $1", b);
        w.exec_params("UPDATE Builds SET globalPriority = 42 WHERE id = $1", c);
        w.commit();
    }
    pqxx::read_transaction t(*conn);
    std::vector<BuildId> ids{c, b, a};
    auto states = buildStates(t, ids);
    ASSERT_EQ(states.size(), 2u);
    EXPECT_EQ(states[0].id, a);
    EXPECT_TRUE(states[0].finished);
    EXPECT_EQ(states[0].status, BuildStatus::Cancelled);
    EXPECT_EQ(states[1].id, c);
    EXPECT_FALSE(states[1].finished);
    EXPECT_FALSE(states[1].status.has_value());
    EXPECT_EQ(states[1].globalPriority, 42);
    auto prios = queuedBuildPriorities(t);
    ASSERT_EQ(prios.size(), 1u);
    EXPECT_EQ(prios[0].id, c);
    EXPECT_EQ(prios[0].globalPriority, 42);
    EXPECT_TRUE(isBuildQueued(t, c));
    EXPECT_FALSE(isBuildQueued(t, a));
    EXPECT_FALSE(isBuildQueued(t, b));
    EXPECT_TRUE(buildStates(t, {}).empty());
}

TEST_F(QueueStoreTest, JobsetSharesAndRecentSteps)
{
    int other = inTxn([](pqxx::work& w) { return addJobset(w, "other", 7); });
    auto b = addBuild("a");
    auto copier = addBuild("c");
    inTxn([&](pqxx::work& w) {
        // Too old; the build's own step; a dependency that failed; a substitution; a running
        // step; a result copied from another build.
        w.exec_params(
            "INSERT INTO BuildSteps (build, stepnr, type, drvPath, busy, status, startTime, stopTime, "
            "propagatedFrom) VALUES "
            "($1, 1, 0, $2, 0, 0, 100, 200, NULL), ($1, 2, 0, $2, 0, 0, 300, 400, NULL), "
            "($1, 3, 0, $3, 0, 1, 350, 380, NULL), ($1, 4, 1, $3, 0, 0, 300, 500, NULL), "
            "($1, 5, 0, $2, 1, NULL, 500, NULL, NULL), ($4, 1, 0, $3, 0, 1, 350, 380, $1)",
            b, drvPath("a"), drvPath("dep"), copier);
        return 0;
    });
    pqxx::read_transaction t(*conn);
    auto shares = jobsetShares(t);
    ASSERT_EQ(shares.size(), 2u);
    EXPECT_EQ(shares[0].id, jobsetId);
    EXPECT_EQ(shares[0].shares, 100);
    EXPECT_EQ(shares[1].id, other);
    EXPECT_EQ(shares[1].project, "proj");
    EXPECT_EQ(shares[1].name, "other");
    EXPECT_EQ(shares[1].shares, 7);
    auto steps = recentSteps(t, 250);
    ASSERT_EQ(steps.size(), 2u);
    // In stop order.
    EXPECT_EQ(steps[0].drvPath, drvPath("dep"));
    EXPECT_FALSE(steps[0].topLevel);
    EXPECT_FALSE(steps[0].succeeded);
    EXPECT_EQ(steps[0].startTime, 350);
    EXPECT_EQ(steps[0].stopTime, 380);
    EXPECT_EQ(steps[1].jobsetId, jobsetId);
    EXPECT_EQ(steps[1].project, "proj");
    EXPECT_EQ(steps[1].jobset, "js");
    EXPECT_EQ(steps[1].job, "job-a");
    EXPECT_TRUE(steps[1].topLevel);
    EXPECT_TRUE(steps[1].succeeded);
    EXPECT_EQ(steps[1].startTime, 300);
    EXPECT_EQ(steps[1].stopTime, 400);
    EXPECT_TRUE(recentSteps(t, 400).empty());
}

NewStep runningStep(BuildId b, const std::string& drv)
{
    NewStep s;
    s.build = b;
    s.drvPath = drv;
    s.system = "x86_64-linux";
    s.machine = "ssh://builder";
    s.busy = StepBusy::Connecting;
    s.startTime = 1000;
    s.outputs = {{"out", "/nix/store/cccccccccccccccccccccccccccccccc-x"}, {"dev", ""}};
    return s;
}

TEST_F(QueueStoreTest, RunningStepRowOutputsAndStepStarted)
{
    auto b = addBuild("a");
    test::ChannelRecorder l(conninfo, channels);
    auto nr = inTxn([&](pqxx::work& w) { return createBuildStep(w, runningStep(b, drvPath("a"))); });
    auto nr2 = inTxn([&](pqxx::work& w) { return createBuildStep(w, runningStep(b, drvPath("a"))); });
    EXPECT_EQ(nr, 1);
    EXPECT_EQ(nr2, 2);
    pqxx::read_transaction t(*conn);
    auto steps = buildSteps(t, b);
    ASSERT_EQ(steps.size(), 2u);
    auto& s = steps[0];
    EXPECT_EQ(s.type, StepType::Build);
    EXPECT_EQ(s.drvPath, drvPath("a"));
    EXPECT_EQ(s.busy, 10);
    EXPECT_FALSE(s.status.has_value());
    EXPECT_EQ(s.startTime, 1000);
    EXPECT_FALSE(s.stopTime.has_value());
    EXPECT_EQ(s.machine, "ssh://builder");
    EXPECT_EQ(s.system, "x86_64-linux");
    EXPECT_FALSE(s.propagatedFrom.has_value());
    EXPECT_FALSE(s.errorMsg.has_value());
    auto outs = buildStepOutputs(t, b, 1);
    ASSERT_EQ(outs.size(), 2u);
    EXPECT_EQ(outs[0].name, "dev");
    EXPECT_EQ(outs[0].path, "");
    EXPECT_EQ(outs[1].path, "/nix/store/cccccccccccccccccccccccccccccccc-x");
    auto id = std::to_string(b);
    EXPECT_EQ(l.drain(), (Notes{{"step_started", id + "\t1"}, {"step_started", id + "\t2"}}));
}

TEST_F(QueueStoreTest, ConcurrentCreatorsGetDistinctStepNumbers)
{
    auto b = addBuild("a");
    constexpr int threads = 16, perThread = 5;
    std::vector<std::vector<int>> got(threads);
    std::vector<std::string> errors(threads);
    {
        std::vector<std::jthread> workers;
        for (int i = 0; i < threads; ++i)
            workers.emplace_back([&, i] {
                try {
                    pqxx::connection c(conninfo);
                    for (int k = 0; k < perThread; ++k) {
                        pqxx::work w(c);
                        got[static_cast<size_t>(i)].push_back(
                            createBuildStep(w, runningStep(b, drvPath("a"))));
                        w.exec("SELECT pg_sleep(0.01)"); // keep transactions overlapping
                        w.commit();
                    }
                } catch (std::exception& e) {
                    errors[static_cast<size_t>(i)] = e.what();
                }
            });
    }
    for (auto& e : errors) EXPECT_EQ(e, "");
    std::set<int> all;
    for (auto& v : got) all.insert(v.begin(), v.end());
    EXPECT_EQ(all.size(), static_cast<size_t>(threads * perThread));
    EXPECT_EQ(*all.begin(), 1);
    EXPECT_EQ(*all.rbegin(), threads * perThread);
    pqxx::read_transaction t(*conn);
    EXPECT_EQ(buildSteps(t, b).size(), static_cast<size_t>(threads * perThread));
}

TEST_F(QueueStoreTest, BusyStagesThenFinishRecordsEverythingAndStepFinished)
{
    auto b = addBuild("a");
    auto nr = inTxn([&](pqxx::work& w) { return createBuildStep(w, runningStep(b, drvPath("a"))); });
    test::ChannelRecorder l(conninfo, channels);
    inTxn([&](pqxx::work& w) {
        updateBuildStep(w, b, nr, StepBusy::Building);
        return 0;
    });
    {
        pqxx::read_transaction t(*conn);
        EXPECT_EQ(buildSteps(t, b)[0].busy, 30);
    }
    StepFinish f;
    f.status = BuildStatus::Success;
    f.startTime = 1001;
    f.stopTime = 1050;
    f.machine = "ssh://other";
    f.overheadMs = 1234;
    f.timesBuilt = 2;
    f.isNonDeterministic = true;
    f.logPath = "/var/lib/hydra/build-logs/aa/bbb-a.drv";
    f.outputs = {{"dev", "/nix/store/dddddddddddddddddddddddddddddddd-x-dev"}};
    inTxn([&](pqxx::work& w) {
        finishBuildStep(w, b, nr, f);
        return 0;
    });
    pqxx::read_transaction t(*conn);
    auto s = buildSteps(t, b)[0];
    EXPECT_EQ(s.busy, 0);
    EXPECT_EQ(s.status, 0);
    EXPECT_EQ(s.startTime, 1001);
    EXPECT_EQ(s.stopTime, 1050);
    EXPECT_EQ(s.machine, "ssh://other");
    EXPECT_EQ(s.overhead, 1234);
    EXPECT_EQ(s.timesBuilt, 2);
    EXPECT_EQ(s.isNonDeterministic, true);
    EXPECT_FALSE(s.errorMsg.has_value());
    EXPECT_EQ(buildStepOutputs(t, b, nr)[0].path, "/nix/store/dddddddddddddddddddddddddddddddd-x-dev");
    EXPECT_EQ(l.drain(),
              (Notes{{"step_finished", std::to_string(b) + "\t1\t/var/lib/hydra/build-logs/aa/bbb-a.drv"}}));
    t.commit();
    pqxx::work w(*conn);
    EXPECT_THROW(updateBuildStep(w, b, nr, StepBusy::ReceivingOutputs), Error); // no longer running
}

TEST_F(QueueStoreTest, FinishWithoutOptionalFieldsStoresNulls)
{
    auto b = addBuild("a");
    auto nr = inTxn([&](pqxx::work& w) { return createBuildStep(w, runningStep(b, drvPath("a"))); });
    StepFinish f;
    f.status = BuildStatus::Aborted;
    f.errorMsg = "connection reset";
    f.startTime = 5;
    f.stopTime = 6;
    inTxn([&](pqxx::work& w) {
        finishBuildStep(w, b, nr, f);
        return 0;
    });
    pqxx::read_transaction t(*conn);
    auto s = buildSteps(t, b)[0];
    EXPECT_EQ(s.status, 3);
    EXPECT_EQ(s.errorMsg, "connection reset");
    EXPECT_EQ(s.machine, "ssh://builder"); // kept
    EXPECT_FALSE(s.overhead.has_value());
    EXPECT_FALSE(s.timesBuilt.has_value());
    EXPECT_FALSE(s.isNonDeterministic.has_value());
}

TEST_F(QueueStoreTest, LogPathWithTabIsRefused)
{
    auto b = addBuild("a");
    auto nr = inTxn([&](pqxx::work& w) { return createBuildStep(w, runningStep(b, drvPath("a"))); });
    StepFinish f;
    f.startTime = f.stopTime = 5;
    f.logPath = "/logs/a\tb";
    pqxx::work w(*conn);
    EXPECT_THROW(finishBuildStep(w, b, nr, f), Error);
}

TEST_F(QueueStoreTest, SubstitutionStepIsAFinishedTypeOneRow)
{
    auto b = addBuild("a");
    auto nr = inTxn([&](pqxx::work& w) {
        return createSubstitutionStep(w, b, drvPath("dep"), {"out", outPath("dep")}, 10, 12);
    });
    pqxx::read_transaction t(*conn);
    auto s = buildSteps(t, b).at(0);
    EXPECT_EQ(nr, 1);
    EXPECT_EQ(s.type, StepType::Substitution);
    EXPECT_EQ(s.busy, 0);
    EXPECT_EQ(s.status, 0);
    EXPECT_EQ(s.startTime, 10);
    EXPECT_EQ(s.stopTime, 12);
    EXPECT_EQ(s.machine, "");
    auto outs = buildStepOutputs(t, b, 1);
    ASSERT_EQ(outs.size(), 1u);
    EXPECT_EQ(outs[0].path, outPath("dep"));
}

SucceededBuild success(BuildId id)
{
    SucceededBuild s;
    s.id = id;
    s.startTime = 2000;
    s.stopTime = 2100;
    s.size = 4096;
    s.closureSize = 1 << 20;
    s.releaseName = "hello-2.12";
    s.outputs = {{"out", "/nix/store/eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee-hello"}};
    s.products = {
        {"file", "binary-dist", 77, std::string(64, 'a'), "/nix/store/eeee-hello/bin/hello", "hello", ""},
        {"nix-build", "", std::nullopt, std::nullopt, "/nix/store/eeee-hello", "hello", "index.html"}};
    s.metrics = {{"runtime", "s", 1.5}, {"warnings", "", 3}};
    return s;
}

TEST_F(QueueStoreTest, SucceededBuildRecordsOutputsProductsMetricsAndNotifies)
{
    auto b = addBuild("a");
    test::ChannelRecorder l(conninfo, channels);
    EXPECT_TRUE(inTxn([&](pqxx::work& w) { return markSucceededBuild(w, success(b)); }));
    auto r = buildRow(b);
    EXPECT_EQ(r[0].as<int>(), 1);
    EXPECT_EQ(r[1].as<int>(), 0);
    EXPECT_EQ(r[2].as<int64_t>(), 2000);
    EXPECT_EQ(r[3].as<int64_t>(), 2100);
    EXPECT_EQ(r[4].as<int>(), 0);
    EXPECT_EQ(r[5].as<int64_t>(), 2100);
    EXPECT_EQ(r[6].as<int64_t>(), 4096);
    EXPECT_EQ(r[7].as<int64_t>(), 1 << 20);
    EXPECT_EQ(r[8].as<std::string>(), "hello-2.12");
    pqxx::work w(*conn);
    EXPECT_EQ(w.exec_params1("SELECT path FROM BuildOutputs WHERE build = $1", b)[0].as<std::string>(),
              "/nix/store/eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee-hello");
    auto prods =
        w.exec_params("SELECT productnr, type, subtype, fileSize, sha256hash, path, name, defaultPath "
                      "FROM BuildProducts WHERE build = $1 ORDER BY productnr",
                      b);
    ASSERT_EQ(prods.size(), 2u);
    EXPECT_EQ(prods[0][0].as<int>(), 1);
    EXPECT_EQ(prods[0][3].as<int64_t>(), 77);
    EXPECT_EQ(prods[0][4].as<std::string>(), std::string(64, 'a'));
    EXPECT_EQ(prods[1][0].as<int>(), 2);
    EXPECT_EQ(prods[1][1].as<std::string>(), "nix-build");
    EXPECT_TRUE(prods[1][3].is_null());
    EXPECT_TRUE(prods[1][4].is_null());
    EXPECT_EQ(prods[1][7].as<std::string>(), "index.html");
    auto mets = w.exec_params("SELECT name, unit, value, project, jobset, job, timestamp FROM BuildMetrics "
                              "WHERE build = $1 ORDER BY name",
                              b);
    ASSERT_EQ(mets.size(), 2u);
    EXPECT_EQ(mets[0][1].as<std::string>(), "s");
    EXPECT_DOUBLE_EQ(mets[0][2].as<double>(), 1.5);
    EXPECT_EQ(mets[0][3].as<std::string>(), "proj");
    EXPECT_EQ(mets[0][4].as<std::string>(), "js");
    EXPECT_EQ(mets[0][5].as<std::string>(), "job-a");
    EXPECT_EQ(mets[0][6].as<int64_t>(), 1700000000);
    EXPECT_TRUE(mets[1][1].is_null());
    EXPECT_FALSE(markSucceededBuild(w, success(b))); // already finished
    w.commit();
    EXPECT_EQ(l.drain(), (Notes{{"build_finished", std::to_string(b)}}));
}

TEST_F(QueueStoreTest, CachedSuccessReusesThePreviousResult)
{
    auto first = addBuild("a");
    inTxn([&](pqxx::work& w) { return markSucceededBuild(w, success(first)); });
    auto second = addBuild("a");
    std::vector<std::string> outs{"/nix/store/zzzz-other",
                                  "/nix/store/eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee-hello"};
    auto prev = inTxn([&](pqxx::work& w) { return previousBuildResult(w, outs); });
    ASSERT_TRUE(prev.has_value());
    EXPECT_EQ(prev->build, first);
    EXPECT_EQ(prev->releaseName, "hello-2.12");
    EXPECT_EQ(prev->closureSize, 1 << 20);
    ASSERT_EQ(prev->products.size(), 2u);
    EXPECT_EQ(prev->products[0].fileSize, 77);
    EXPECT_EQ(prev->products[1].defaultPath, "index.html");
    ASSERT_EQ(prev->metrics.size(), 2u);
    auto s = success(second);
    s.isCachedBuild = true;
    s.products = prev->products;
    s.metrics = prev->metrics;
    EXPECT_TRUE(inTxn([&](pqxx::work& w) { return markSucceededBuild(w, s); }));
    EXPECT_EQ(buildRow(second)[4].as<int>(), 1);
    std::vector<std::string> none{"/nix/store/nothing"};
    EXPECT_FALSE(inTxn([&](pqxx::work& w) { return previousBuildResult(w, none); }).has_value());
}

TEST_F(QueueStoreTest, FailureFinishesDependentsInOneTransactionAndOneNotification)
{
    auto a = addBuild("a"), b = addBuild("b"), c = addBuild("c"), done = addBuild("d");
    inTxn([&](pqxx::work& w) { return markSucceededBuild(w, success(done)); });
    auto nr = inTxn([&](pqxx::work& w) { return createBuildStep(w, runningStep(a, drvPath("a"))); });
    test::ChannelRecorder l(conninfo, channels);
    StepFailure f;
    f.buildId = a;
    f.drvPath = drvPath("a");
    f.system = "x86_64-linux";
    f.stepStatus = BuildStatus::Failed;
    f.machine = "ssh://builder";
    f.startTime = 3000;
    f.stopTime = 3010;
    f.outputs = {{"out", outPath("a")}};
    f.failedPaths = {outPath("a")};
    std::vector<DependentBuild> deps{
        {c, drvPath("c")}, {a, drvPath("a")}, {done, drvPath("d")}, {b, drvPath("b")}};
    auto finished = inTxn([&](pqxx::work& w) {
        StepFinish sf;
        sf.status = BuildStatus::Failed;
        sf.startTime = 3000;
        sf.stopTime = 3010;
        sf.logPath = "/logs/a";
        finishBuildStep(w, a, nr, sf);
        return failBuilds(w, f, deps);
    });
    EXPECT_EQ(finished, (std::vector<BuildId>{a, b, c}));
    auto ra = buildRow(a), rb = buildRow(b), rc = buildRow(c);
    EXPECT_EQ(ra[1].as<int>(), 1);
    EXPECT_EQ(rb[1].as<int>(), 2);
    EXPECT_EQ(rc[1].as<int>(), 2);
    for (auto& r : {ra, rb, rc}) {
        EXPECT_EQ(r[0].as<int>(), 1);
        EXPECT_EQ(r[2].as<int64_t>(), 3000);
        EXPECT_EQ(r[3].as<int64_t>(), 3010);
        EXPECT_EQ(r[4].as<int>(), 0);
        EXPECT_EQ(r[5].as<int64_t>(), 3010);
    }
    EXPECT_EQ(buildRow(done)[1].as<int>(), 0); // already finished: untouched
    pqxx::read_transaction t(*conn);
    EXPECT_EQ(buildSteps(t, a).size(), 1u); // its own step only
    auto sb = buildSteps(t, b);
    ASSERT_EQ(sb.size(), 1u);
    EXPECT_EQ(sb[0].status, 1);
    EXPECT_EQ(sb[0].busy, 0);
    EXPECT_EQ(sb[0].propagatedFrom, a);
    EXPECT_EQ(sb[0].drvPath, drvPath("a"));
    EXPECT_EQ(sb[0].machine, "ssh://builder");
    EXPECT_FALSE(sb[0].startTime.has_value());
    EXPECT_EQ(buildStepOutputs(t, b, 1).at(0).path, outPath("a"));
    std::vector<std::string> paths{outPath("a")};
    EXPECT_EQ(findFailedPath(t, paths), outPath("a"));
    auto ids = std::to_string(a) + "\t" + std::to_string(b) + "\t" + std::to_string(c);
    EXPECT_EQ(l.drain(),
              (Notes{{"step_finished", std::to_string(a) + "\t1\t/logs/a"}, {"build_finished", ids}}));
}

TEST_F(QueueStoreTest, OtherFailureStatusesPassToDependentsAsHydraDoes)
{
    StepFailure f;
    f.drvPath = drvPath("a");
    DependentBuild self{1, drvPath("a")}, dep{2, drvPath("b")};
    f.stepStatus = BuildStatus::CachedFailure;
    EXPECT_EQ(failedBuildStatus(f, self), BuildStatus::Failed);
    EXPECT_EQ(failedBuildStatus(f, dep), BuildStatus::DepFailed);
    for (auto s : {BuildStatus::TimedOut, BuildStatus::Unsupported, BuildStatus::LogLimitExceeded,
                   BuildStatus::NarSizeLimitExceeded, BuildStatus::NotDeterministic, BuildStatus::Aborted}) {
        f.stepStatus = s;
        EXPECT_EQ(failedBuildStatus(f, self), s);
        EXPECT_EQ(failedBuildStatus(f, dep), s);
    }
}

TEST_F(QueueStoreTest, FailedPathsInsertIsIdempotent)
{
    std::vector<std::string> paths{outPath("x"), outPath("y"), outPath("x")};
    inTxn([&](pqxx::work& w) {
        addFailedPaths(w, paths);
        return 0;
    });
    inTxn([&](pqxx::work& w) {
        addFailedPaths(w, paths);
        return 0;
    });
    pqxx::work w(*conn);
    EXPECT_EQ(w.exec("SELECT count(*) FROM FailedPaths")[0][0].as<int>(), 2);
    std::vector<std::string> probe{outPath("none"), outPath("y")};
    EXPECT_EQ(findFailedPath(w, probe), outPath("y"));
    std::vector<std::string> miss{outPath("none"), "/nix/store/with\"quote,comma{}"};
    EXPECT_FALSE(findFailedPath(w, miss).has_value());
}

TEST_F(QueueStoreTest, CachedFailureRecordsStatusEightStepWithPropagatedFrom)
{
    auto earlier = addBuild("dep");
    inTxn([&](pqxx::work& w) {
        NewStep s;
        s.build = earlier;
        s.drvPath = drvPath("dep");
        s.status = BuildStatus::Failed;
        s.startTime = 10;
        s.stopTime = 20;
        s.outputs = {{"out", outPath("dep")}};
        return createBuildStep(w, s);
    });
    auto b = addBuild("top");
    test::ChannelRecorder l(conninfo, channels);
    CachedFailure c;
    c.build = b;
    c.buildDrvPath = drvPath("top");
    c.stepDrvPath = drvPath("dep");
    c.system = "x86_64-linux";
    c.outputs = {{"out", outPath("dep")}};
    c.now = 5000;
    EXPECT_TRUE(inTxn([&](pqxx::work& w) { return finishCachedFailure(w, c); }));
    EXPECT_FALSE(inTxn([&](pqxx::work& w) { return finishCachedFailure(w, c); }));
    auto r = buildRow(b);
    EXPECT_EQ(r[1].as<int>(), 2);
    EXPECT_EQ(r[2].as<int64_t>(), 5000);
    EXPECT_EQ(r[3].as<int64_t>(), 5000);
    EXPECT_EQ(r[4].as<int>(), 1);
    EXPECT_EQ(r[5].as<int64_t>(), 5000);
    pqxx::read_transaction t(*conn);
    auto steps = buildSteps(t, b);
    ASSERT_EQ(steps.size(), 1u);
    EXPECT_EQ(steps[0].status, 8);
    EXPECT_EQ(steps[0].busy, 0);
    EXPECT_EQ(steps[0].propagatedFrom, earlier);
    EXPECT_EQ(steps[0].drvPath, drvPath("dep"));
    EXPECT_EQ(l.drain(), (Notes{{"build_finished", std::to_string(b)}}));
    // Found by output path when the failed step had another derivation path.
    std::vector<std::string> outs{outPath("dep")};
    EXPECT_EQ(findFailedStepBuild(t, drvPath("renamed"), outs), earlier);
    std::vector<std::string> none;
    EXPECT_FALSE(findFailedStepBuild(t, drvPath("renamed"), none).has_value());
}

TEST_F(QueueStoreTest, OwnDerivationCachedFailureIsStatusOne)
{
    auto b = addBuild("top");
    CachedFailure c;
    c.build = b;
    c.buildDrvPath = c.stepDrvPath = drvPath("top");
    c.now = 7;
    EXPECT_TRUE(inTxn([&](pqxx::work& w) { return finishCachedFailure(w, c); }));
    EXPECT_EQ(buildRow(b)[1].as<int>(), 1);
    pqxx::read_transaction t(*conn);
    EXPECT_FALSE(buildSteps(t, b).at(0).propagatedFrom.has_value()); // no earlier failure known
}

TEST_F(QueueStoreTest, AbortedBuildKeepsTheReasonInAStepRow)
{
    auto b = addBuild("gone");
    test::ChannelRecorder l(conninfo, channels);
    EXPECT_TRUE(inTxn(
        [&](pqxx::work& w) { return abortBuild(w, b, drvPath("gone"), 900, "derivation is missing"); }));
    auto r = buildRow(b);
    EXPECT_EQ(r[1].as<int>(), 3);
    EXPECT_EQ(r[2].as<int64_t>(), 900);
    EXPECT_EQ(r[5].as<int64_t>(), 900);
    pqxx::read_transaction t(*conn);
    auto s = buildSteps(t, b).at(0);
    EXPECT_EQ(s.status, 3);
    EXPECT_EQ(s.errorMsg, "derivation is missing");
    EXPECT_EQ(l.drain(), (Notes{{"build_finished", std::to_string(b)}}));
}

TEST_F(QueueStoreTest, StartUpResetsStepsLeftBusy)
{
    auto b = addBuild("a");
    inTxn([&](pqxx::work& w) {
        createBuildStep(w, runningStep(b, drvPath("a")));
        createBuildStep(w, runningStep(b, drvPath("a")));
        NewStep done = runningStep(b, drvPath("a"));
        done.status = BuildStatus::Success;
        done.stopTime = 1001;
        return createBuildStep(w, done);
    });
    EXPECT_TRUE(inTxn([&](pqxx::work& w) { return abortBusyStep(w, b, 2, int64_t{1500}); }));
    EXPECT_FALSE(inTxn([&](pqxx::work& w) { return abortBusyStep(w, b, 2, int64_t{1600}); }));
    EXPECT_EQ(inTxn([&](pqxx::work& w) { return clearBusySteps(w, int64_t{2000}); }), 1);
    pqxx::work t(*conn);
    auto steps = buildSteps(t, b);
    ASSERT_EQ(steps.size(), 3u);
    EXPECT_EQ(steps[0].busy, 0);
    EXPECT_EQ(steps[0].status, 3);
    EXPECT_EQ(steps[0].stopTime, 2000);
    EXPECT_EQ(steps[1].status, 3);
    EXPECT_EQ(steps[1].stopTime, 1500);
    EXPECT_EQ(steps[2].status, 0); // finished steps are left alone
    EXPECT_EQ(steps[2].stopTime, 1001);
    EXPECT_EQ(clearBusySteps(t, std::nullopt), 0);
}

TEST_F(QueueStoreTest, PendingNotificationsAreListedUntilCleared)
{
    auto a = addBuild("a"), b = addBuild("b");
    addBuild("queued");
    inTxn([&](pqxx::work& w) {
        return markSucceededBuild(w, success(b)) && markSucceededBuild(w, success(a));
    });
    pqxx::work w(*conn);
    EXPECT_EQ(buildsWithPendingNotification(w), (std::vector<BuildId>{a, b}));
    EXPECT_TRUE(clearNotificationPending(w, a));
    EXPECT_FALSE(clearNotificationPending(w, a));
    EXPECT_EQ(buildsWithPendingNotification(w), (std::vector<BuildId>{b}));
}

TEST_F(QueueStoreTest, StatusDocumentUpsertAndNotifications)
{
    test::ChannelRecorder l(conninfo, channels);
    auto b = addBuild("a");
    inTxn([&](pqxx::work& w) {
        EXPECT_FALSE(readQueueRunnerStatus(w).has_value());
        writeQueueRunnerStatus(w, R"({"status":"up","n":1})");
        writeQueueRunnerStatus(w, R"({"status":"up","n":2})");
        notifyBuildStarted(w, b);
        notifyDumpStatus(w);
        return 0;
    });
    pqxx::work w(*conn);
    EXPECT_EQ(readQueueRunnerStatus(w), R"({"status":"up","n":2})");
    EXPECT_EQ(w.exec("SELECT count(*) FROM SystemStatus")[0][0].as<int>(), 1);
    deleteQueueRunnerStatus(w);
    EXPECT_FALSE(readQueueRunnerStatus(w).has_value());
    w.commit();
    // PostgreSQL folds identical notifications of one transaction into one.
    EXPECT_EQ(l.drain(),
              (Notes{{"status_dumped", ""}, {"build_started", std::to_string(b)}, {"dump_status", ""}}));
    std::vector<BuildId> deps{7, 8};
    EXPECT_EQ(buildFinishedPayload(5, deps), "5\t7\t8");
}

TEST_F(QueueStoreTest, NotificationsWaitForTheCommit)
{
    auto b = addBuild("a");
    test::ChannelRecorder l(conninfo, channels);
    {
        pqxx::work w(*conn);
        EXPECT_TRUE(markSucceededBuild(w, success(b)));
        // rolled back: no notification, build still queued
    }
    EXPECT_TRUE(l.drain().empty());
    EXPECT_EQ(buildRow(b)[0].as<int>(), 0);
}

} // namespace

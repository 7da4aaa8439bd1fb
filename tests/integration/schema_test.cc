// The schema holds what Hydra writes, rejects what Hydra's constraints reject, keeps NrBuilds,
// and its triggers send the notifications programs LISTEN for -- seen by a real psql.

#include "db/schema.hh"
#include "harness/pg_fixture.hh"
#include "util/error.hh"
#include "util/fd.hh"
#include "util/process.hh"

#include <algorithm>
#include <csignal>
#include <gtest/gtest.h>
#include <pqxx/pqxx>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using hydra::test::PgCluster;

namespace {

const std::vector<std::string> allChannels = {
    "builds_deleted",        "builds_restarted", "builds_cancelled", "builds_bumped",
    "jobset_shares_changed", "jobsets_added",    "jobsets_deleted",  "jobset_scheduling_changed"};

// A real `psql` child LISTENing on channels: what any program on the network would see.
class PsqlListener {
public:
    PsqlListener(const std::string& conninfo, const std::vector<std::string>& channels)
        : proc_(hydra::Process::spawn(
              {.argv = {"psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", conninfo},
               .pipeStdin = true,
               .pipeStdout = true,
               .stderrToStdout = true}))
    {
        std::string listen;
        for (auto& ch : channels) listen += "LISTEN " + ch + ";\n";
        listen += "LISTEN test_sentinel;\n";
        send(listen);
        roundTrip();
    }

    // The channels notified since the last call, sorted. A sentinel NOTIFY sent
    // through `c` after everything the caller committed marks the end: PostgreSQL delivers
    // notifications in commit order, so nothing sent before it can still be on its way.
    std::vector<std::string> drain(pqxx::connection& c)
    {
        pqxx::nontransaction(c).exec("NOTIFY test_sentinel");
        auto deadline = std::chrono::steady_clock::now() + 30s;
        while (std::find(seen_.begin(), seen_.end(), "test_sentinel") == seen_.end()) {
            if (std::chrono::steady_clock::now() > deadline)
                throw hydra::TimeoutError("psql did not report the sentinel notification; it printed:\n{}",
                                          transcript_);
            std::this_thread::sleep_for(20ms);
            roundTrip();
        }
        std::vector<std::string> out;
        for (auto& ch : seen_)
            if (ch != "test_sentinel") out.push_back(ch);
        seen_.clear();
        std::sort(out.begin(), out.end());
        return out;
    }

private:
    void send(std::string_view s)
    {
        hydra::writeAll(proc_.in().get(), s, std::chrono::steady_clock::now() + 30s, "psql's stdin");
    }

    // psql prints notifications when it next talks to the server: run a query, then read up to
    // a marker echoed after it.
    void roundTrip()
    {
        std::string marker = "@@sync" + std::to_string(++syncs_) + "@@";
        send("SELECT 1;\n\\echo " + marker + "\n");
        auto deadline = std::chrono::steady_clock::now() + 30s;
        while (buf_.find(marker + "\n") == std::string::npos) {
            char tmp[4096];
            size_t n = hydra::readSome(proc_.out().get(), tmp, sizeof tmp, deadline, "psql's output");
            if (n == 0) throw hydra::Error("psql exited; it printed:\n{}{}", transcript_, buf_);
            buf_.append(tmp, n);
        }
        for (size_t eol; (eol = buf_.find('\n')) != std::string::npos; buf_.erase(0, eol + 1))
            parseLine(buf_.substr(0, eol));
    }

    void parseLine(const std::string& line)
    {
        transcript_ += line + "\n";
        const std::string prefix = "Asynchronous notification \"";
        if (!line.starts_with(prefix)) return;
        auto end = line.find('"', prefix.size());
        seen_.push_back(line.substr(prefix.size(), end - prefix.size()));
    }

    hydra::Process proc_;
    std::string buf_, transcript_;
    std::vector<std::string> seen_;
    int syncs_ = 0;
};

// A fresh database with the schema, holding a user, a project and a legacy jobset, as Hydra's
// web interface creates them.
class SchemaTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        signal(SIGPIPE, SIG_IGN);
        conninfo_ = PgCluster::get().conninfo(PgCluster::get().freshDatabase());
        c_ = std::make_unique<pqxx::connection>(conninfo_);
        hydra::db::initSchema(*c_);
        exec("INSERT INTO Users (userName, fullName, emailAddress, password) "
             "VALUES ('alice', 'Alice', 'alice@example.org', '!')");
        exec("INSERT INTO UserRoles (userName, role) VALUES ('alice', 'admin'), ('alice', 'cancel-build')");
        exec("INSERT INTO Projects (name, displayName, description, owner, homepage) "
             "VALUES ('patchelf', 'PatchELF', 'ELF patcher', 'alice', 'https://example.org/patchelf')");
        jobsetId_ =
            one<int>("INSERT INTO Jobsets (name, project, description, nixExprInput, nixExprPath, "
                     "emailOverride, keepnr, checkInterval, schedulingShares) "
                     "VALUES ('trunk', 'patchelf', 'main line', 'src', 'release.nix', '', 3, 300, 100) "
                     "RETURNING id");
    }

    pqxx::result exec(const std::string& sql)
    {
        pqxx::work w(*c_);
        auto r = w.exec(sql);
        w.commit();
        return r;
    }

    template <typename T> T one(const std::string& sql) { return exec(sql)[0][0].as<T>(); }

    // A queued build of job `job` in the jobset, written the way the evaluator writes one.
    int queueBuild(const std::string& job)
    {
        return one<int>(fmt::format(
            "INSERT INTO Builds (finished, timestamp, jobset_id, job, nixName, description, drvPath, system, "
            "license, maintainers, maxsilent, timeout, isChannel, isCurrent, priority, globalPriority) "
            "VALUES (0, 1700000000, {}, '{}', 'patchelf-0.18', 'A tool', "
            "'/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-{}.drv', 'x86_64-linux', 'gpl3', "
            "'alice@example.org', "
            "3600, 36000, 0, 1, 0, 0) RETURNING id",
            jobsetId_, job, job));
    }

    void finishBuild(int id, int status)
    {
        exec(fmt::format("UPDATE Builds SET finished = 1, buildStatus = {}, startTime = 1700000100, "
                         "stopTime = 1700000200, isCachedBuild = 0 WHERE id = {}",
                         status, id));
    }

    int nrFinished() { return one<int>("SELECT count FROM NrBuilds WHERE what = 'finished'"); }

    std::string conninfo_;
    std::unique_ptr<pqxx::connection> c_;
    int jobsetId_ = 0;
};

using Channels = std::vector<std::string>;

TEST_F(SchemaTest, RecordsVersion87)
{
    EXPECT_EQ(hydra::db::schemaVersion(*c_), 87);
    EXPECT_EQ(one<int>("SELECT version FROM SchemaVersion"), 87);
}

TEST_F(SchemaTest, HoldsAnEvaluationAsHydraWritesIt)
{
    exec("INSERT INTO JobsetInputs (project, jobset, name, type, emailResponsible) "
         "VALUES ('patchelf', 'trunk', 'src', 'git', 1), ('patchelf', 'trunk', 'official', 'boolean', 0)");
    exec("INSERT INTO JobsetInputAlts (project, jobset, input, altnr, value, revision) "
         "VALUES ('patchelf', 'trunk', 'src', 0, 'https://example.org/patchelf.git master', NULL), "
         "('patchelf', 'trunk', 'official', 0, 'false', NULL)");
    int err =
        one<int>("INSERT INTO EvaluationErrors (errorMsg, errorTime) VALUES ('', 1700000000) RETURNING id");
    int eval = one<int>(fmt::format(
        "INSERT INTO JobsetEvals (jobset_id, evaluationerror_id, timestamp, checkoutTime, evalTime, "
        "hasNewBuilds, hash, nrBuilds, nixExprInput, nixExprPath) "
        "VALUES ({}, {}, 1700000000, 3, 7, 1, 'abc123', 1, 'src', 'release.nix') RETURNING id",
        jobsetId_, err));
    exec(
        fmt::format("INSERT INTO JobsetEvalInputs (eval, name, altNr, type, uri, revision, sha256hash, path) "
                    "VALUES ({}, 'src', 0, 'git', 'https://example.org/patchelf.git', 'deadbeef', "
                    "'0abc', '/nix/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-source')",
                    eval));
    int b = queueBuild("build.x86_64-linux");
    exec(fmt::format("INSERT INTO JobsetEvalMembers (eval, build, isNew) VALUES ({}, {}, 1)", eval, b));
    exec(fmt::format("INSERT INTO BuildOutputs (build, name, path) VALUES ({}, 'out', "
                     "'/nix/store/cccccccccccccccccccccccccccccccc-patchelf-0.18')",
                     b));

    auto r = exec(fmt::format(
        "SELECT j.project, j.name AS jobset, b.job, b.finished, b.maxsilent, e.hash, m.isNew, o.path, "
        "i.revision, ee.errorMsg FROM Builds b JOIN Jobsets j ON j.id = b.jobset_id "
        "JOIN JobsetEvalMembers m ON m.build = b.id JOIN JobsetEvals e ON e.id = m.eval "
        "JOIN BuildOutputs o ON o.build = b.id JOIN JobsetEvalInputs i ON i.eval = e.id "
        "JOIN EvaluationErrors ee ON ee.id = e.evaluationerror_id WHERE b.id = {}",
        b));
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0]["project"].as<std::string>(), "patchelf"); // through jobset_id, as Hydra since 80
    EXPECT_EQ(r[0]["jobset"].as<std::string>(), "trunk");
    EXPECT_EQ(r[0]["job"].as<std::string>(), "build.x86_64-linux");
    EXPECT_EQ(r[0]["finished"].as<int>(), 0);
    EXPECT_EQ(r[0]["maxsilent"].as<int>(), 3600);
    EXPECT_EQ(r[0]["hash"].as<std::string>(), "abc123");
    EXPECT_EQ(r[0]["path"].as<std::string>(), "/nix/store/cccccccccccccccccccccccccccccccc-patchelf-0.18");
    EXPECT_EQ(r[0]["revision"].as<std::string>(), "deadbeef");
    EXPECT_EQ(r[0]["errormsg"].as<std::string>(), "");
    EXPECT_EQ(one<int>("SELECT count(*) FROM JobsetInputAlts WHERE project = 'patchelf'"), 2);
}

TEST_F(SchemaTest, HoldsStepsProductsMetricsAndStatusAsTheQueueRunnerWritesThem)
{
    int b = queueBuild("build");
    exec(fmt::format(
        "INSERT INTO BuildSteps (build, stepnr, type, drvPath, busy, startTime, machine, system) "
        "VALUES ({}, 1, 0, '/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-build.drv', 30, 1700000100, "
        "'ssh://builder', 'x86_64-linux')",
        b));
    exec(fmt::format("UPDATE BuildSteps SET busy = 0, status = 0, stopTime = 1700000200, overhead = 1500, "
                     "timesBuilt = 1, isNonDeterministic = false WHERE build = {} AND stepnr = 1",
                     b));
    exec(fmt::format("INSERT INTO BuildStepOutputs (build, stepnr, name, path) VALUES ({}, 1, 'out', "
                     "'/nix/store/cccccccccccccccccccccccccccccccc-patchelf-0.18')",
                     b));
    finishBuild(b, 0);
    exec(fmt::format(
        "UPDATE Builds SET size = 5000000000, closureSize = 6000000000, releaseName = 'patchelf-0.18', "
        "notificationPendingSince = 1700000200 WHERE id = {}",
        b));
    exec(
        fmt::format("INSERT INTO BuildProducts (build, productnr, type, subtype, fileSize, sha256hash, path, "
                    "name, defaultPath) VALUES ({}, 1, 'file', 'source-dist', 4294967296, 'abcd', "
                    "'/nix/store/cccccccccccccccccccccccccccccccc-patchelf-0.18/p.tar.gz', 'p.tar.gz', NULL)",
                    b));
    exec(fmt::format("INSERT INTO BuildMetrics (build, name, unit, value, project, jobset, job, timestamp) "
                     "VALUES ({}, 'runtime', 's', 12.5, 'patchelf', 'trunk', 'build', 1700000200)",
                     b));
    exec("INSERT INTO FailedPaths (path) VALUES ('/nix/store/dddddddddddddddddddddddddddddddd-broken')");
    exec("INSERT INTO FailedPaths (path) VALUES ('/nix/store/dddddddddddddddddddddddddddddddd-broken')");
    exec("INSERT INTO SystemStatus (what, status) VALUES ('queue-runner', '{\"status\": \"up\", "
         "\"nrQueuedBuilds\": 0}')");

    auto s =
        exec(fmt::format("SELECT s.machine, s.busy, s.status, s.overhead, o.path, b.size, b.closureSize, "
                         "b.buildStatus, p.fileSize, m.value FROM BuildSteps s "
                         "JOIN BuildStepOutputs o USING (build, stepnr) JOIN Builds b ON b.id = s.build "
                         "JOIN BuildProducts p ON p.build = b.id JOIN BuildMetrics m ON m.build = b.id "
                         "WHERE s.build = {}",
                         b));
    ASSERT_EQ(s.size(), 1u);
    EXPECT_EQ(s[0]["machine"].as<std::string>(), "ssh://builder");
    EXPECT_EQ(s[0]["busy"].as<int>(), 0);
    EXPECT_EQ(s[0]["overhead"].as<int>(), 1500);
    EXPECT_EQ(s[0]["size"].as<long long>(), 5000000000LL); // bigint: more than 4 GiB
    EXPECT_EQ(s[0]["filesize"].as<long long>(), 4294967296LL);
    EXPECT_DOUBLE_EQ(s[0]["value"].as<double>(), 12.5);
    EXPECT_EQ(one<int>("SELECT count(*) FROM FailedPaths"), 1); // a second insert is not an error
    EXPECT_EQ(one<std::string>("SELECT status->>'status' FROM SystemStatus WHERE what = 'queue-runner'"),
              "up");
}

TEST_F(SchemaTest, ConstraintsRejectWhatHydraRejects)
{
    auto expectCheck = [&](const std::string& sql) { EXPECT_THROW(exec(sql), pqxx::check_violation) << sql; };
    expectCheck("UPDATE Jobsets SET schedulingShares = 0");
    expectCheck("UPDATE Jobsets SET type = 2");
    expectCheck("UPDATE Jobsets SET type = 1"); // a flake jobset needs a flake and no expression
    expectCheck(fmt::format("INSERT INTO Builds (finished, timestamp, jobset_id, job, drvPath, system) "
                            "VALUES (1, 1700000000, {}, 'j', '/nix/store/x.drv', 'x86_64-linux')",
                            jobsetId_)); // finished without start and stop times
    int b = queueBuild("j");
    expectCheck(fmt::format("INSERT INTO RunCommandLogs (job_matcher, build_id, command, end_time, uuid) "
                            "VALUES ('*:*:*', {}, 'true', 5, gen_random_uuid())",
                            b));
    EXPECT_THROW(exec("INSERT INTO BuildSteps (build, stepnr, type, drvPath, busy) "
                      "VALUES (999999, 1, 0, '/nix/store/x.drv', 0)"),
                 pqxx::foreign_key_violation);
    EXPECT_THROW(exec("INSERT INTO Builds (finished, timestamp, jobset_id, job, drvPath, system) "
                      "VALUES (0, 1, 999999, 'j', '/nix/store/x.drv', 'x86_64-linux')"),
                 pqxx::foreign_key_violation);
    EXPECT_THROW(exec("INSERT INTO Users (userName, emailAddress, password) VALUES ('alice', '', '!')"),
                 pqxx::unique_violation);
    EXPECT_THROW(exec("INSERT INTO Jobsets (name, project, nixExprInput, nixExprPath, emailOverride) "
                      "VALUES ('x', 'nosuchproject', 'src', 'r.nix', '')"),
                 pqxx::foreign_key_violation);
    // A flake jobset is valid with a flake and no expression input.
    exec("INSERT INTO Jobsets (name, project, type, flake, emailOverride) "
         "VALUES ('flaky', 'patchelf', 1, 'github:a/b', '')");
    // Since schema 87 a step is resolved (status 13) exactly when it names its resolved derivation.
    expectCheck(fmt::format("INSERT INTO BuildSteps (build, stepnr, type, drvPath, busy, status) "
                            "VALUES ({}, 1, 0, '/nix/store/x.drv', 0, 13)",
                            b));
    expectCheck(
        fmt::format("INSERT INTO BuildSteps (build, stepnr, type, drvPath, busy, status, "
                    "resolvedDrvPath) VALUES ({}, 1, 0, '/nix/store/x.drv', 0, 0, '/nix/store/y.drv')",
                    b));
    exec(fmt::format("INSERT INTO BuildSteps (build, stepnr, type, drvPath, busy, status, resolvedDrvPath) "
                     "VALUES ({}, 1, 0, '/nix/store/x.drv', 0, 13, '/nix/store/y.drv')",
                     b));
}

TEST_F(SchemaTest, DeletingAJobsetDeletesItsBuildsAndEvaluations)
{
    int b = queueBuild("j");
    exec(fmt::format("INSERT INTO BuildSteps (build, stepnr, type, drvPath, busy) "
                     "VALUES ({}, 1, 0, '/nix/store/x.drv', 0)",
                     b));
    exec(fmt::format(
        "INSERT INTO JobsetEvals (jobset_id, timestamp, checkoutTime, evalTime, hasNewBuilds, hash) "
        "VALUES ({}, 1, 0, 0, 1, 'h')",
        jobsetId_));
    exec("DELETE FROM Jobsets WHERE name = 'trunk'");
    EXPECT_EQ(one<int>("SELECT count(*) FROM Builds"), 0);
    EXPECT_EQ(one<int>("SELECT count(*) FROM BuildSteps"), 0);
    EXPECT_EQ(one<int>("SELECT count(*) FROM JobsetEvals"), 0);
}

TEST_F(SchemaTest, RenamingAJobsetKeepsBuildsPointingAtIt)
{
    int b = queueBuild("j");
    exec("UPDATE Jobsets SET name = 'main' WHERE name = 'trunk'");
    EXPECT_EQ(one<std::string>(fmt::format(
                  "SELECT j.name FROM Builds b JOIN Jobsets j ON j.id = b.jobset_id WHERE b.id = {}", b)),
              "main");
}

TEST_F(SchemaTest, NrBuildsCountsFinishedBuilds)
{
    EXPECT_EQ(nrFinished(), 0);
    int a = queueBuild("a");
    int b = queueBuild("b");
    EXPECT_EQ(nrFinished(), 0);
    finishBuild(a, 0);
    finishBuild(b, 1);
    EXPECT_EQ(nrFinished(), 2);
    exec(fmt::format("UPDATE Builds SET keep = 1 WHERE id = {}", a)); // finished stays 1
    EXPECT_EQ(nrFinished(), 2);
    exec(fmt::format("UPDATE Builds SET finished = 0 WHERE id = {}", b)); // restart
    EXPECT_EQ(nrFinished(), 1);
    exec(fmt::format("DELETE FROM Builds WHERE id = {}", a));
    EXPECT_EQ(nrFinished(), 0);
    exec(fmt::format("DELETE FROM Builds WHERE id = {}", b)); // was queued: no change
    EXPECT_EQ(nrFinished(), 0);
    exec(fmt::format("INSERT INTO Builds (finished, timestamp, jobset_id, job, drvPath, system, startTime, "
                     "stopTime, buildStatus, isCachedBuild) VALUES (1, 1, {}, 'c', '/nix/store/c.drv', "
                     "'x86_64-linux', 1, 2, 0, 1)",
                     jobsetId_)); // inserted as finished (a cached build)
    EXPECT_EQ(nrFinished(), 1);
}

class NotifyTest : public SchemaTest {
protected:
    void SetUp() override
    {
        SchemaTest::SetUp();
        psql_ = std::make_unique<PsqlListener>(conninfo_, allChannels);
    }
    Channels drain() { return psql_->drain(*c_); }
    std::unique_ptr<PsqlListener> psql_;
};

TEST_F(NotifyTest, BuildsCancelledOnlyWhenAQueuedBuildIsCancelled)
{
    int a = queueBuild("a");
    int b = queueBuild("b");
    EXPECT_EQ(drain(), Channels{});
    finishBuild(a, 4);
    EXPECT_EQ(drain(), Channels{"builds_cancelled"});
    finishBuild(b, 0); // an ordinary success
    EXPECT_EQ(drain(), Channels{});
    exec(fmt::format("UPDATE Builds SET buildStatus = 4 WHERE id = {}", b)); // already finished
    EXPECT_EQ(drain(), Channels{});
}

TEST_F(NotifyTest, BuildsRestartedWhenAFinishedBuildIsQueuedAgain)
{
    int a = queueBuild("a");
    finishBuild(a, 1);
    EXPECT_EQ(drain(), Channels{});
    exec(fmt::format("UPDATE Builds SET keep = 1, releaseName = 'r' WHERE id = {}", a));
    EXPECT_EQ(drain(), Channels{});
    exec(fmt::format("UPDATE Builds SET finished = 0, buildStatus = NULL, startTime = NULL, stopTime = NULL "
                     "WHERE id = {}",
                     a));
    EXPECT_EQ(drain(), Channels{"builds_restarted"});
}

TEST_F(NotifyTest, BuildsDeletedOnDelete)
{
    int a = queueBuild("a");
    exec(fmt::format("UPDATE Builds SET isCurrent = 0 WHERE id = {}", a));
    EXPECT_EQ(drain(), Channels{});
    exec(fmt::format("DELETE FROM Builds WHERE id = {}", a));
    EXPECT_EQ(drain(), Channels{"builds_deleted"});
}

TEST_F(NotifyTest, BuildsBumpedWhenGlobalPriorityChanges)
{
    int a = queueBuild("a");
    exec(fmt::format("UPDATE Builds SET priority = 50 WHERE id = {}", a));
    exec(fmt::format("UPDATE Builds SET globalPriority = 0 WHERE id = {}", a)); // unchanged
    EXPECT_EQ(drain(), Channels{});
    exec(fmt::format("UPDATE Builds SET globalPriority = 10 WHERE id = {}", a));
    EXPECT_EQ(drain(), Channels{"builds_bumped"});
}

TEST_F(NotifyTest, JobsetSharesChanged)
{
    exec("UPDATE Jobsets SET description = 'x', schedulingShares = 100 WHERE name = 'trunk'");
    EXPECT_EQ(drain(), Channels{});
    exec("UPDATE Jobsets SET schedulingShares = 250 WHERE name = 'trunk'");
    EXPECT_EQ(drain(), Channels{"jobset_shares_changed"});
}

TEST_F(NotifyTest, JobsetsAddedAndDeleted)
{
    exec("INSERT INTO Jobsets (name, project, nixExprInput, nixExprPath, emailOverride) "
         "VALUES ('staging', 'patchelf', 'src', 'release.nix', '')");
    EXPECT_EQ(drain(), Channels{"jobsets_added"});
    exec("DELETE FROM Jobsets WHERE name = 'staging'");
    // The delete cascades to Builds as a (here empty) statement, and Hydra's builds_deleted
    // trigger is per statement: listeners see it too, as with Hydra.
    EXPECT_EQ(drain(), (Channels{"builds_deleted", "jobsets_deleted"}));
}

TEST_F(NotifyTest, JobsetSchedulingChanged)
{
    // The evaluator writes these on every check: no wake-up.
    exec("UPDATE Jobsets SET lastCheckedTime = 1700000000, errorMsg = NULL, fetchErrorMsg = NULL, "
         "startTime = 1700000000 WHERE name = 'trunk'");
    EXPECT_EQ(drain(), Channels{});
    exec("UPDATE Jobsets SET triggerTime = 1700000001 WHERE name = 'trunk'"); // a push
    EXPECT_EQ(drain(), Channels{"jobset_scheduling_changed"});
    exec("UPDATE Jobsets SET triggerTime = NULL WHERE name = 'trunk'"); // the evaluator took it
    EXPECT_EQ(drain(), Channels{});
    exec("UPDATE Jobsets SET checkInterval = 60 WHERE name = 'trunk'");
    EXPECT_EQ(drain(), Channels{"jobset_scheduling_changed"});
    exec("UPDATE Jobsets SET enabled = 0 WHERE name = 'trunk'");
    EXPECT_EQ(drain(), Channels{"jobset_scheduling_changed"});
}

TEST_F(NotifyTest, NothingIsSentForARolledBackChange)
{
    int a = queueBuild("a");
    {
        pqxx::work w(*c_);
        w.exec(fmt::format("DELETE FROM Builds WHERE id = {}", a));
        w.abort();
    }
    EXPECT_EQ(drain(), Channels{});
}

} // namespace

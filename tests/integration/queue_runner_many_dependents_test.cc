// A failure that takes down 3,000 queued builds: the queue runner finishes them all in one go,
// announcing them in several build_finished notifications (one would pass PostgreSQL's 8,000
// bytes and lose the whole transaction), and hydra-notify handles every build once.

#include "harness/channel_recorder.hh"
#include "harness/nix_graph.hh"
#include "harness/notify_fixture.hh"
#include "harness/queue_runner_fixture.hh"

#include "db/sql_values.hh" // after libpqxx, which its <pqxx/field> needs whole

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

using namespace hydra;
using namespace hydra::test;
using namespace std::chrono_literals;

namespace {

constexpr int dependents = 3000;

class QueueRunnerManyDependentsTest : public QueueRunnerFixture {
protected:
    void TearDown() override
    {
        notify_.stop();
        QueueRunnerFixture::TearDown();
    }

    // One build per node, all queued by one statement.
    std::vector<long long> queueAll(int jobset, const std::map<std::string, NixDrv>& drvs)
    {
        std::vector<std::string> jobs, drvPaths, outs;
        for (const auto& [name, d] : drvs) {
            jobs.push_back(name);
            drvPaths.push_back(d.drvPath);
            outs.push_back(d.out());
        }
        pqxx::work t(*conn_);
        auto r = t.exec_params(
            "WITH d AS (SELECT * FROM unnest($2::text[], $3::text[], $4::text[]) AS d(job, drv, out)), "
            "b AS (INSERT INTO Builds (finished, timestamp, jobset_id, job, nixName, drvPath, system, "
            "maxsilent, timeout) SELECT 0, extract(epoch from now())::bigint, $1, job, job, drv, "
            "'x86_64-linux', 3600, 36000 FROM d RETURNING id, drvPath) "
            "INSERT INTO BuildOutputs (build, name, path) "
            "SELECT b.id, 'out', d.out FROM b JOIN d ON d.drv = b.drvPath RETURNING build",
            jobset, db::sql::textArray(jobs), db::sql::textArray(drvPaths), db::sql::textArray(outs));
        t.commit();
        std::vector<long long> ids;
        for (auto row : r) ids.push_back(row[0].as<long long>());
        return ids;
    }

    // hydra-notify on the runner's database and hydra.conf, listening when this returns.
    void startNotify()
    {
        notify_.start(
            {{"HYDRA_DBI", conninfo_}, {"HYDRA_DATA", state_}, {"HYDRA_CONFIG", state_ + "/hydra.conf"}});
        auto deadline = std::chrono::steady_clock::now() + 60s;
        while (notify_.log().find("hydra-notify: listening") == std::string::npos) {
            ASSERT_LT(std::chrono::steady_clock::now(), deadline) << notify_.log();
            std::this_thread::sleep_for(100ms);
        }
    }

    // Polls the runner's status until it holds `n` builds.
    void waitForQueued(size_t n)
    {
        auto deadline = std::chrono::steady_clock::now() + 300s;
        for (;;) {
            auto r = run({.argv = {queueRunnerBinary(), "--status"}, .setEnv = runnerEnv()}, {}, 60s);
            if (exitedOk(r.status) && nlohmann::json::parse(r.out).value("nrQueuedBuilds", size_t{0}) == n)
                return;
            ASSERT_LT(std::chrono::steady_clock::now(), deadline) << r.out << r.err << runnerLog();
            std::this_thread::sleep_for(500ms);
        }
    }

    // How many times RunCommand ran for each build.
    std::map<long long, int> handled()
    {
        std::map<long long, int> out;
        std::ifstream in(state_ + "/handled");
        std::string line;
        while (std::getline(in, line)) ++out[nlohmann::json::parse(line).at("build").get<long long>()];
        return out;
    }

    TestDaemon notify_{"", ""}; ///< set up by the test
};

std::vector<long long> idsIn(const std::string& payload)
{
    std::vector<long long> out;
    std::istringstream in(payload);
    std::string field;
    while (std::getline(in, field, '\t')) out.push_back(std::stoll(field));
    return out;
}

} // namespace

TEST_F(QueueRunnerManyDependentsTest, AFailureFinishesThreeThousandDependentsAndEachIsHandledOnce)
{
    NixGraph g;
    // The failure waits until every build is queued, so that all of them fail with it: the
    // sandboxed builder sees no file of the test, so the test signals it (found by its marker).
    auto marker = "gate-" + g.nonce();
    g.add("bad").script = ": " + marker +
                          "; go=0; trap go=1 USR1; i=0; while [ $go = 0 ] && [ $i -lt 3000 ]; " +
                          "do sleep 0.1; i=$((i+1)); done; " + scripts::failing(1);
    for (int i = 0; i < dependents; ++i) g.add("d" + std::to_string(i), {"bad"});
    auto drvs = g.derivations();
    int js = rows_->jobset();
    auto bad = rows_->queueBuild(js, "bad", drvs.at("bad").drvPath, drvs.at("bad").out());
    drvs.erase("bad");
    auto deps = queueAll(js, drvs);
    ASSERT_EQ(deps.size(), size_t{dependents});
    addConfig("<runcommand>\n  job = *:*:*\n  command = read -r j < \"$HYDRA_JSON\"; echo \"$j\" >> " +
              state_ + "/handled\n</runcommand>");
    notify_ = TestDaemon(notifyBinary(), state_ + "/notify.log");
    startNotify();
    ChannelRecorder recorder(conninfo_, {"build_finished"});
    startRunner();
    waitForQueued(dependents + 1);
    auto gate = processWithCommandLine(marker, 60s);
    ASSERT_NE(gate, 0) << "the failing build never started; log:\n" << runnerLog();
    ASSERT_EQ(::kill(gate, SIGUSR1), 0);

    auto all = deps;
    all.push_back(bad);
    waitForFinished(all, 300s);
    EXPECT_EQ(buildStatus(bad), 1);
    EXPECT_EQ(query1<long long>("SELECT count(*) FROM Builds WHERE finished = 1 AND buildStatus = 2"),
              dependents);

    auto notes = recorder.drain();
    std::map<long long, int> named;
    size_t parts = 0;
    for (const auto& [channel, payload] : notes) {
        ++parts;
        EXPECT_LT(payload.size(), 8000u);
        auto ids = idsIn(payload);
        ASSERT_FALSE(ids.empty());
        EXPECT_EQ(ids.front(), bad) << payload.substr(0, 40);
        for (size_t i = 1; i < ids.size(); ++i) ++named[ids[i]];
    }
    EXPECT_GE(parts, 2u);
    EXPECT_EQ(named.size(), size_t{dependents});
    for (auto id : deps) EXPECT_EQ(named[id], 1) << "build " << id;

    waitForCount("SELECT count(*) FROM Builds WHERE notificationPendingSince IS NOT NULL", 0, 300s);
    auto runs = handled();
    EXPECT_EQ(runs.size(), all.size());
    for (auto id : all) EXPECT_EQ(runs[id], 1) << "build " << id;
    EXPECT_EQ(stopRunner(), 0);
    EXPECT_EQ(notify_.stop(), 0);
}

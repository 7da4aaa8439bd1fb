// hydra-queue-runner end to end: the real binary, PostgreSQL, the local Nix store and ssh hosts.

#include "db/connect.hh"
#include "db/listener.hh"
#include "db/schema.hh"
#include "harness/build_host.hh"
#include "harness/hydra_rows.hh"
#include "harness/nix_graph.hh"
#include "harness/pg_fixture.hh"
#include "util/process.hh"
#include "util/sync.hh"

#include <csignal>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <thread>

using namespace hydra;
using namespace hydra::test;
using namespace std::chrono_literals;

namespace {

const std::string runnerBinary = std::string(HYDRA_BINARY_DIR) + "/bin/hydra-queue-runner";

bool validLocally(const std::string& path)
{
    auto r = run({.argv = {"nix-store", "--check-validity", path}, .setEnv = nixTestEnv()});
    return exitedOk(r.status);
}

class QueueRunnerTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        dbName_ = PgCluster::get().freshDatabase();
        conninfo_ = PgCluster::get().conninfo(dbName_);
        conn_ = db::connect(conninfo_);
        db::initSchema(*conn_);
        rows_ = std::make_unique<HydraRows>(*conn_);
        state_ = makeTempDir("hydra-qr-test");
        std::ofstream(state_ + "/hydra.conf") << "gc_roots_dir = " << state_ << "/gcroots\n"
                                              << "max_db_connections = 8\nretry_interval = 1\n";
        listener_ = std::make_unique<db::Listener>(
            conninfo_,
            std::vector<std::string>{"build_started", "step_started", "step_finished", "build_finished"},
            [this](const std::string& channel, const std::string& payload) {
                notifications_.lock()->emplace_back(channel, payload);
            },
            [] {});
    }

    void TearDown() override
    {
        stopRunner();
        listener_.reset();
        std::filesystem::remove_all(state_);
    }

    void startRunner(const std::string& machinesFile = "")
    {
        auto env = nixTestEnv();
        env["HYDRA_DBI"] = conninfo_;
        env["HYDRA_DATA"] = state_;
        env["HYDRA_CONFIG"] = state_ + "/hydra.conf";
        env["NIX_REMOTE_SYSTEMS"] = machinesFile;
        std::vector<std::string> unset;
        if (machinesFile.empty()) unset.push_back("NIX_REMOTE_SYSTEMS"), env.erase("NIX_REMOTE_SYSTEMS");
        std::string cmd = "exec " + runnerBinary + " 2>>" + state_ + "/runner.log";
        runner_ = Process::spawn({.argv = {"sh", "-c", cmd}, .setEnv = env, .unsetEnv = unset});
    }

    /// SIGTERM, then the runner must exit by itself.
    int stopRunner()
    {
        if (!runner_ || !runner_->running()) return 0;
        runner_->kill(SIGTERM);
        auto st = runner_->waitUntil(std::chrono::steady_clock::now() + 60s);
        EXPECT_TRUE(st.has_value()) << "hydra-queue-runner did not stop on SIGTERM";
        runner_.reset();
        return st.value_or(-1);
    }

    std::string runnerLog() const
    {
        std::ifstream f(state_ + "/runner.log");
        return {std::istreambuf_iterator<char>(f), {}};
    }

    template <typename T> T query1(const std::string& sql)
    {
        pqxx::read_transaction t(*conn_);
        return t.exec1(sql)[0].as<T>();
    }

    void waitForFinished(const std::vector<long long>& ids, std::chrono::seconds limit = 180s)
    {
        std::string list;
        for (auto id : ids) list += (list.empty() ? "" : ",") + std::to_string(id);
        auto deadline = std::chrono::steady_clock::now() + limit;
        while (query1<long long>("SELECT count(*) FROM Builds WHERE finished = 1 AND id IN (" + list + ")") !=
               static_cast<long long>(ids.size())) {
            ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "builds not finished; runner log:\n"
                                                                  << runnerLog();
            std::this_thread::sleep_for(200ms);
        }
    }

    int buildStatus(long long id)
    {
        return query1<int>("SELECT buildStatus FROM Builds WHERE id = " + std::to_string(id));
    }

    size_t count(const std::string& channel)
    {
        auto n = notifications_.lock();
        return static_cast<size_t>(
            std::count_if(n->begin(), n->end(), [&](auto& p) { return p.first == channel; }));
    }

    std::vector<std::string> payloads(const std::string& channel)
    {
        std::vector<std::string> out;
        for (auto& [c, p] : *notifications_.lock())
            if (c == channel) out.push_back(p);
        return out;
    }

    std::string dbName_, conninfo_, state_;
    std::unique_ptr<pqxx::connection> conn_;
    std::unique_ptr<HydraRows> rows_;
    std::unique_ptr<db::Listener> listener_;
    Sync<std::vector<std::pair<std::string, std::string>>> notifications_;
    std::optional<Process> runner_;
};

NixGraph sharedDag()
{
    NixGraph g;
    g.add("base");
    g.add("left", {"base"});
    g.add("right", {"base"});
    g.add("join", {"left", "right"});
    for (int i = 0; i < 6; ++i) g.add("leaf" + std::to_string(i), {i % 2 ? "left" : "right"});
    g.add("top1", {"join", "leaf0", "leaf1", "leaf2"});
    g.add("top2", {"join", "leaf3", "leaf4"});
    g.add("top3", {"leaf5"});
    return g;
}

} // namespace

TEST_F(QueueRunnerTest, BuildsSharedDagOnLocalhostOnceEachWithRowsAndNotifications)
{
    auto g = sharedDag();
    auto drvs = g.derivations();
    int js = rows_->jobset();
    std::vector<long long> ids;
    for (auto top : {"top1", "top2", "top3"})
        ids.push_back(rows_->queueBuild(js, top, drvs.at(top).drvPath, drvs.at(top).out()));
    startRunner();
    waitForFinished(ids);

    for (auto id : ids) EXPECT_EQ(buildStatus(id), 0) << runnerLog();
    for (auto& [name, d] : drvs) EXPECT_TRUE(validLocally(d.out())) << name;
    // Every derivation was built exactly once, shared steps included.
    EXPECT_EQ(query1<long long>("SELECT count(*) FROM BuildSteps"), static_cast<long long>(drvs.size()));
    EXPECT_EQ(query1<long long>("SELECT count(DISTINCT drvPath) FROM BuildSteps"),
              static_cast<long long>(drvs.size()));
    EXPECT_EQ(query1<long long>(
                  "SELECT count(*) FROM BuildSteps WHERE busy != 0 OR status != 0 OR stopTime IS NULL"),
              0);
    EXPECT_EQ(query1<std::string>("SELECT string_agg(DISTINCT machine, ',') FROM BuildSteps"), "localhost");
    // Finished builds record their outputs and wait for hydra-notify.
    EXPECT_EQ(query1<long long>(
                  "SELECT count(*) FROM Builds WHERE notificationPendingSince IS NULL OR stopTime IS NULL"),
              0);
    for (auto top : {"top1", "top2", "top3"})
        EXPECT_TRUE(std::filesystem::is_symlink(
            state_ + "/gcroots/" + std::filesystem::path(drvs.at(top).out()).filename().string()));

    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (count("build_finished") < 3 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(50ms);
    EXPECT_EQ(count("build_finished"), 3u);
    EXPECT_EQ(count("step_started"), drvs.size());
    EXPECT_EQ(count("step_finished"), drvs.size());
    for (auto& p : payloads("step_finished")) {
        auto fields = std::count(p.begin(), p.end(), '\t');
        EXPECT_EQ(fields, 2) << "step_finished carries build, step and log path: " << p;
    }
    EXPECT_GE(count("build_started"), 1u);
    EXPECT_EQ(stopRunner(), 0);
}

TEST_F(QueueRunnerTest, FailureFailsDependentsAndLaterBuildsOfItFailAtOnce)
{
    NixGraph g;
    g.add("ok");
    g.add("bad", {"ok"}).script = scripts::failing(3);
    g.add("top", {"bad"});
    auto drvs = g.derivations();
    int js = rows_->jobset();
    auto bad = rows_->queueBuild(js, "bad", drvs.at("bad").drvPath, drvs.at("bad").out());
    auto top = rows_->queueBuild(js, "top", drvs.at("top").drvPath, drvs.at("top").out());
    startRunner();
    waitForFinished({bad, top});
    EXPECT_EQ(buildStatus(bad), 1);
    EXPECT_EQ(buildStatus(top), 2);
    EXPECT_EQ(
        query1<long long>("SELECT count(*) FROM FailedPaths WHERE path = '" + drvs.at("bad").out() + "'"), 1);
    EXPECT_EQ(query1<int>("SELECT status FROM BuildSteps WHERE drvPath = '" + drvs.at("bad").drvPath +
                          "' AND build = " + std::to_string(bad)),
              1);

    // A new build of the failed derivation fails at once from FailedPaths, without building.
    auto again = rows_->queueBuild(js, "bad", drvs.at("bad").drvPath, drvs.at("bad").out());
    rows_->announceAdded(again);
    waitForFinished({again}, 30s);
    EXPECT_EQ(buildStatus(again), 1);
    EXPECT_EQ(query1<int>("SELECT isCachedBuild FROM Builds WHERE id = " + std::to_string(again)), 1);
    EXPECT_EQ(query1<int>("SELECT status FROM BuildSteps WHERE build = " + std::to_string(again)), 8);
}

TEST_F(QueueRunnerTest, BuildsCommittedOutOfOrderAreFoundFromTheLowestAnnouncedId)
{
    NixGraph g;
    g.add("first");
    g.add("second");
    auto drvs = g.derivations();
    int js = rows_->jobset();
    startRunner();
    // Two evaluations: the one with the lower id commits last.
    pqxx::connection other(conninfo_);
    pqxx::work slow(other);
    auto low = slow.exec_params1(
                       "INSERT INTO Builds (finished, timestamp, jobset_id, job, nixName, drvPath, system) "
                       "VALUES (0, 1, $1, 'first', 'first', $2, 'x86_64-linux') RETURNING id",
                       js, drvs.at("first").drvPath)[0]
                   .as<long long>();
    auto high = rows_->queueBuild(js, "second", drvs.at("second").drvPath, drvs.at("second").out());
    rows_->announceAdded(high);
    waitForFinished({high}, 60s);
    slow.exec_params("SELECT pg_notify('builds_added', $1)", std::to_string(low));
    slow.commit();
    // Well before the monitor's periodic 30 s look: only the announced lowest id finds it.
    waitForFinished({low}, 20s);
    EXPECT_EQ(buildStatus(low), 0);
    EXPECT_EQ(buildStatus(high), 0);
}

TEST_F(QueueRunnerTest, MissingDerivationAbortsTheBuildWithAClearMessage)
{
    int js = rows_->jobset();
    std::string missing = "/nix/store/00000000000000000000000000000000-gone.drv";
    auto id = rows_->queueBuild(js, "gone", missing, "/nix/store/00000000000000000000000000000000-gone");
    startRunner();
    waitForFinished({id}, 60s);
    EXPECT_EQ(buildStatus(id), 3);
    auto msg = query1<std::string>("SELECT errorMsg FROM BuildSteps WHERE build = " + std::to_string(id));
    EXPECT_NE(msg.find(missing), std::string::npos) << msg;
}

TEST_F(QueueRunnerTest, SigtermStopsCleanlyAndTheBuildRunsAfterARestart)
{
    NixGraph g;
    g.add("slow").script = scripts::sleeping(4);
    auto drvs = g.derivations();
    int js = rows_->jobset();
    auto id = rows_->queueBuild(js, "slow", drvs.at("slow").drvPath, drvs.at("slow").out());
    startRunner();
    auto deadline = std::chrono::steady_clock::now() + 60s;
    while (query1<long long>("SELECT count(*) FROM BuildSteps WHERE busy = 30") == 0) {
        ASSERT_LT(std::chrono::steady_clock::now(), deadline) << runnerLog();
        std::this_thread::sleep_for(100ms);
    }
    EXPECT_EQ(stopRunner(), 0);
    EXPECT_EQ(query1<long long>("SELECT count(*) FROM BuildSteps WHERE busy != 0"), 0);
    EXPECT_EQ(query1<int>("SELECT finished FROM Builds WHERE id = " + std::to_string(id)), 0);

    startRunner();
    waitForFinished({id}, 60s);
    EXPECT_EQ(buildStatus(id), 0) << runnerLog();
    EXPECT_TRUE(validLocally(drvs.at("slow").out()));
}

TEST_F(QueueRunnerTest, StepsRunOnARemoteBuildHostAndOutputsComeBack)
{
    BuildHost host;
    auto machines = state_ + "/machines";
    std::ofstream(machines) << host.machinesLine("x86_64-linux", 2) << "\n";
    auto g = NixGraph::chain(3);
    auto drvs = g.derivations();
    int js = rows_->jobset();
    std::string top = g.nodes().back().name;
    auto id = rows_->queueBuild(js, top, drvs.at(top).drvPath, drvs.at(top).out());
    startRunner(machines);
    waitForFinished({id});
    EXPECT_EQ(buildStatus(id), 0) << runnerLog();
    EXPECT_EQ(query1<std::string>("SELECT string_agg(DISTINCT machine, ',') FROM BuildSteps"),
              host.storeUri());
    EXPECT_TRUE(validLocally(drvs.at(top).out()));
    auto verify = run({.argv = {"nix-store", "--verify-path", drvs.at(top).out()}, .setEnv = nixTestEnv()});
    EXPECT_TRUE(exitedOk(verify.status)) << verify.err;
}

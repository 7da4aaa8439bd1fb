#include "harness/queue_runner_fixture.hh"

#include "db/connect.hh"
#include "db/schema.hh"
#include "harness/nix_graph.hh"
#include "harness/pg_fixture.hh"

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <thread>

namespace hydra::test {

using namespace std::chrono_literals;

std::string queueRunnerBinary()
{
    return std::string(HYDRA_BINARY_DIR) + "/bin/hydra-queue-runner";
}

bool validLocally(const std::string& path)
{
    auto r = run({.argv = {"nix-store", "--check-validity", path}, .setEnv = nixTestEnv()});
    return exitedOk(r.status);
}

void QueueRunnerFixture::SetUp()
{
    dbName_ = PgCluster::get().freshDatabase();
    conninfo_ = PgCluster::get().conninfo(dbName_);
    conn_ = db::connect(conninfo_);
    db::initSchema(*conn_);
    rows_ = std::make_unique<HydraRows>(*conn_);
    state_ = makeTempDir("hydra-qr-test");
    runner_ = TestDaemon(queueRunnerBinary(), state_ + "/runner.log");
    addConfig("gc_roots_dir = " + state_ + "/gcroots\nmax_db_connections = 8\nretry_interval = 1\n");
    listener_ = std::make_unique<db::Listener>(
        conninfo_,
        std::vector<std::string>{"build_started", "step_started", "step_finished", "build_finished"},
        [this](const std::string& channel, const std::string& payload) {
            notifications_.lock()->emplace_back(channel, payload);
        },
        [] {});
}

void QueueRunnerFixture::TearDown()
{
    stopRunner();
    listener_.reset();
    std::filesystem::remove_all(state_);
}

void QueueRunnerFixture::addConfig(const std::string& lines)
{
    std::ofstream(state_ + "/hydra.conf", std::ios::app) << lines << "\n";
}

std::map<std::string, std::string> QueueRunnerFixture::runnerEnv() const
{
    auto env = nixTestEnv();
    env["HYDRA_DBI"] = conninfo_;
    env["HYDRA_DATA"] = state_;
    env["HYDRA_CONFIG"] = state_ + "/hydra.conf";
    return env;
}

void QueueRunnerFixture::startRunner(const std::string& machinesFile,
                                     const std::map<std::string, std::string>& env)
{
    auto all = runnerEnv();
    for (const auto& [k, v] : env) all[k] = v;
    std::vector<std::string> unset;
    if (machinesFile.empty())
        unset.emplace_back("NIX_REMOTE_SYSTEMS");
    else
        all["NIX_REMOTE_SYSTEMS"] = machinesFile;
    runner_.start(all, unset);
}

int QueueRunnerFixture::stopRunner()
{
    return runner_.stop();
}

std::string QueueRunnerFixture::runnerLog() const
{
    return runner_.log();
}

void QueueRunnerFixture::exec(const std::string& sql)
{
    pqxx::work t(*conn_);
    t.exec(sql);
    t.commit();
}

void QueueRunnerFixture::waitForCount(const std::string& sql, long long want, std::chrono::seconds limit)
{
    auto deadline = std::chrono::steady_clock::now() + limit;
    long long got = 0;
    while ((got = query1<long long>(sql)) != want) {
        ASSERT_LT(std::chrono::steady_clock::now(), deadline)
            << sql << " gave " << got << ", wanted " << want << "; runner log:\n"
            << runnerLog();
        std::this_thread::sleep_for(100ms);
    }
}

void QueueRunnerFixture::waitForFinished(const std::vector<long long>& ids, std::chrono::seconds limit)
{
    std::string list;
    for (auto id : ids) list += (list.empty() ? "" : ",") + std::to_string(id);
    waitForCount("SELECT count(*) FROM Builds WHERE finished = 1 AND id IN (" + list + ")",
                 static_cast<long long>(ids.size()), limit);
}

int QueueRunnerFixture::buildStatus(long long id)
{
    return query1<int>("SELECT buildStatus FROM Builds WHERE id = " + std::to_string(id));
}

size_t QueueRunnerFixture::count(const std::string& channel)
{
    auto n = notifications_.lock();
    return static_cast<size_t>(
        std::count_if(n->begin(), n->end(), [&](auto& p) { return p.first == channel; }));
}

std::vector<std::string> QueueRunnerFixture::payloads(const std::string& channel)
{
    std::vector<std::string> out;
    for (auto& [c, p] : *notifications_.lock())
        if (c == channel) out.push_back(p);
    return out;
}

} // namespace hydra::test

#include "harness/notify_fixture.hh"

#include "db/build_results.hh"
#include "db/connect.hh"
#include "db/schema.hh"
#include "harness/pg_fixture.hh"

#include <csignal>
#include <filesystem>
#include <fstream>
#include <thread>

namespace hydra::test {

using namespace std::chrono_literals;

std::string notifyBinary()
{
    return std::string(HYDRA_BINARY_DIR) + "/bin/hydra-notify";
}

void NotifyFixture::SetUp()
{
    dbName_ = PgCluster::get().freshDatabase();
    conninfo_ = PgCluster::get().conninfo(dbName_);
    conn_ = db::connect(conninfo_);
    db::initSchema(*conn_);
    rows_ = std::make_unique<HydraRows>(*conn_);
    jobsetId_ = rows_->jobset("js");
    state_ = makeTempDir("hydra-notify-test");
    notify_ = TestDaemon(notifyBinary(), state_ + "/notify.log");
    addConfig("");
}

void NotifyFixture::TearDown()
{
    stopNotify();
    std::filesystem::remove_all(state_);
}

void NotifyFixture::addConfig(const std::string& lines)
{
    std::ofstream(state_ + "/hydra.conf", std::ios::app) << lines << "\n";
}

void NotifyFixture::startNotify(const std::map<std::string, std::string>& env)
{
    std::map<std::string, std::string> all{
        {"HYDRA_DBI", conninfo_}, {"HYDRA_DATA", state_}, {"HYDRA_CONFIG", state_ + "/hydra.conf"}};
    for (const auto& [k, v] : env) all[k] = v;
    auto started = [&] {
        auto log = notifyLog();
        size_t n = 0;
        for (auto at = log.find("hydra-notify: listening"); at != std::string::npos;
             at = log.find("hydra-notify: listening", at + 1))
            ++n;
        return n;
    };
    auto before = started();
    notify_.start(all);
    // Notifications sent from now on are heard.
    waitFor([&] { return started() > before; }, "hydra-notify started listening");
}

int NotifyFixture::stopNotify()
{
    return notify_.stop();
}

void NotifyFixture::killNotify()
{
    notify_.kill();
}

std::string NotifyFixture::notifyLog() const
{
    return notify_.log();
}

std::string NotifyFixture::readFile(const std::string& path) const
{
    std::ifstream f(path);
    return {std::istreambuf_iterator<char>(f), {}};
}

long long NotifyFixture::finishedBuild(const std::string& job)
{
    auto id = rows_->queueBuild(jobsetId_, job, "/nix/store/aaaa-" + job + ".drv", "/nix/store/bbbb-" + job);
    pqxx::work t(*conn_);
    db::SucceededBuild b;
    b.id = id;
    b.startTime = 1700000000;
    b.stopTime = 1700000010;
    b.products = {{"file", "binary-dist", 5, "abcd", "/nix/store/bbbb-" + job + "/f", "f", ""}};
    b.metrics = {{"lines", "", 3}};
    EXPECT_TRUE(db::markSucceededBuild(t, b));
    t.commit();
    return id;
}

long long NotifyFixture::count(const std::string& sql)
{
    pqxx::read_transaction t(*conn_);
    return t.exec1(sql)[0].as<long long>();
}

void NotifyFixture::exec(const std::string& sql)
{
    pqxx::work t(*conn_);
    t.exec(sql);
    t.commit();
}

void NotifyFixture::waitForCount(const std::string& sql, long long want, std::chrono::seconds limit)
{
    auto deadline = std::chrono::steady_clock::now() + limit;
    long long got = 0;
    while ((got = count(sql)) != want) {
        ASSERT_LT(std::chrono::steady_clock::now(), deadline)
            << sql << " gave " << got << ", wanted " << want << "; hydra-notify log:\n"
            << notifyLog();
        std::this_thread::sleep_for(100ms);
    }
}

void NotifyFixture::waitFor(const std::function<bool()>& done, const std::string& what,
                            std::chrono::seconds limit)
{
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
        ASSERT_LT(std::chrono::steady_clock::now(), deadline) << what << "; hydra-notify log:\n"
                                                              << notifyLog();
        std::this_thread::sleep_for(100ms);
    }
}

} // namespace hydra::test

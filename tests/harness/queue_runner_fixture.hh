#pragma once
// QueueRunnerFixture: a fresh Hydra database, a state directory and the real hydra-queue-runner.

#include "db/listener.hh"
#include "harness/hydra_rows.hh"
#include "harness/test_daemon.hh"
#include "util/process.hh"
#include "util/sync.hh"

#include <chrono>
#include <gtest/gtest.h>
#include <map>
#include <memory>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

namespace hydra::test {

/// The built hydra-queue-runner program.
std::string queueRunnerBinary();
/// Whether `path` is valid in the local Nix store.
bool validLocally(const std::string& path);

/// Base of the queue runner's end-to-end tests: a fresh database with Hydra's schema, rows,
/// a state directory with hydra.conf, a listener on the runner's announcements, and the runner.
class QueueRunnerFixture : public ::testing::Test {
protected:
    void SetUp() override;
    void TearDown() override;

    /// Appends lines to hydra.conf (before the runner starts).
    void addConfig(const std::string& lines);
    /// Starts the runner (machines file empty: localhost only); `env` adds or overrides variables.
    void startRunner(const std::string& machinesFile = "",
                     const std::map<std::string, std::string>& env = {});
    /// SIGTERM, then the runner must exit by itself; returns its wait status.
    int stopRunner();
    /// The environment the runner gets (database, data dir, config, Nix settings).
    std::map<std::string, std::string> runnerEnv() const;
    std::string runnerLog() const;

    template <typename T> T query1(const std::string& sql)
    {
        pqxx::read_transaction t(*conn_);
        return t.exec1(sql)[0].as<T>();
    }
    /// Runs `sql` in its own committed transaction.
    void exec(const std::string& sql);
    /// Polls `sql` (one number) until it equals `want`; fails the test with the runner's log if not.
    void waitForCount(const std::string& sql, long long want,
                      std::chrono::seconds limit = std::chrono::seconds(60));
    void waitForFinished(const std::vector<long long>& ids,
                         std::chrono::seconds limit = std::chrono::seconds(180));
    int buildStatus(long long id);

    size_t count(const std::string& channel);
    std::vector<std::string> payloads(const std::string& channel);

    std::string dbName_, conninfo_, state_;
    std::unique_ptr<pqxx::connection> conn_;
    std::unique_ptr<HydraRows> rows_;
    std::unique_ptr<db::Listener> listener_;
    Sync<std::vector<std::pair<std::string, std::string>>> notifications_;
    TestDaemon runner_{"", ""}; ///< set up in SetUp()
};

} // namespace hydra::test

#pragma once
// NotifyFixture: a fresh Hydra database, a state directory with hydra.conf, finished builds,
// and the real hydra-notify started, stopped or killed by the test.

#include "harness/hydra_rows.hh"
#include "harness/test_daemon.hh"

#include <chrono>
#include <functional>
#include <gtest/gtest.h>
#include <map>
#include <memory>
#include <optional>
#include <pqxx/pqxx>
#include <string>

namespace hydra::test {

/// The built hydra-notify program.
std::string notifyBinary();

/// Base of hydra-notify's end-to-end tests.
class NotifyFixture : public ::testing::Test {
protected:
    void SetUp() override;
    void TearDown() override;

    /// Appends lines to hydra.conf (before the daemon starts).
    void addConfig(const std::string& lines);
    /// Starts hydra-notify and waits until it listens; `env` adds or overrides variables.
    void startNotify(const std::map<std::string, std::string>& env = {});
    /// SIGTERM; the daemon must exit by itself; returns its wait status.
    int stopNotify();
    /// SIGKILL, as a crash.
    void killNotify();
    std::string notifyLog() const;

    /// A queued build of job `job` finished now as succeeded (notificationPendingSince set,
    /// build_finished sent), with one output, one product and one metric.
    long long finishedBuild(const std::string& job);

    long long count(const std::string& sql);
    void exec(const std::string& sql);
    /// Polls `sql` (one number) until it equals `want`; fails with the daemon's log if not.
    void waitForCount(const std::string& sql, long long want,
                      std::chrono::seconds limit = std::chrono::seconds(60));
    /// Polls `done` until true; fails with `what` and the daemon's log if not.
    void waitFor(const std::function<bool()>& done, const std::string& what,
                 std::chrono::seconds limit = std::chrono::seconds(60));
    std::string readFile(const std::string& path) const;

    std::string dbName_, conninfo_, state_;
    std::unique_ptr<pqxx::connection> conn_;
    std::unique_ptr<HydraRows> rows_;
    int jobsetId_ = 0;
    TestDaemon notify_{"", ""}; ///< set up in SetUp()
};

} // namespace hydra::test

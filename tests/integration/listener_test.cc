// Listener against a real PostgreSQL: delivers NOTIFY payloads, survives a killed backend and a
// server restart (reporting the gap), and stops promptly.

#include "db/listener.hh"
#include "harness/pg_fixture.hh"
#include "util/error.hh"

#include <gtest/gtest.h>

#include <condition_variable>
#include <csignal>
#include <future>
#include <mutex>
#include <pqxx/pqxx>
#include <utility>
#include <vector>

using namespace hydra;
using namespace hydra::db;
using namespace std::chrono_literals;

namespace {

const bool sigpipeIgnored = [] { return std::signal(SIGPIPE, SIG_IGN) != SIG_ERR; }();

/// What the listener handed to its callbacks, for the test thread to wait on.
class Inbox {
public:
    void notify(const std::string& channel, const std::string& payload)
    {
        std::lock_guard lock(m_);
        got_.emplace_back(channel, payload);
        cv_.notify_all();
    }
    void gap()
    {
        std::lock_guard lock(m_);
        ++gaps_;
        cv_.notify_all();
    }
    /// Waits (bounded) until `payload` arrived on `channel`.
    bool waitFor(const std::string& channel, const std::string& payload)
    {
        std::unique_lock lock(m_);
        return cv_.wait_for(lock, 60s, [&] {
            for (auto& [c, p] : got_)
                if (c == channel && p == payload) return true;
            return false;
        });
    }
    /// Waits (bounded) until at least `n` gaps were reported.
    bool waitForGaps(int n)
    {
        std::unique_lock lock(m_);
        return cv_.wait_for(lock, 60s, [&] { return gaps_ >= n; });
    }
    int gaps()
    {
        std::lock_guard lock(m_);
        return gaps_;
    }
    size_t count()
    {
        std::lock_guard lock(m_);
        return got_.size();
    }

private:
    std::mutex m_;
    std::condition_variable cv_;
    std::vector<std::pair<std::string, std::string>> got_;
    int gaps_ = 0;
};

/// A fresh database, an inbox, and a listener on two of Hydra's channels.
struct Subscribed {
    std::string db = test::PgCluster::get().freshDatabase();
    std::string conninfo = test::PgCluster::get().conninfo(db);
    Inbox inbox;
    Listener listener{conninfo,
                      {"builds_added", "build_finished"},
                      [this](const std::string& c, const std::string& p) { inbox.notify(c, p); },
                      [this] { inbox.gap(); },
                      ListenerOptions{.pollInterval = 100ms, .initialBackoff = 50ms, .maxBackoff = 1s}};

    void send(const std::string& channel, const std::string& payload)
    {
        pqxx::connection c(conninfo);
        pqxx::nontransaction t(c);
        t.exec_params("SELECT pg_notify($1, $2)", channel, payload);
    }
    void terminate(int pid)
    {
        pqxx::connection c(conninfo);
        pqxx::nontransaction t(c);
        ASSERT_TRUE(t.exec_params("SELECT pg_terminate_backend($1)", pid)[0][0].as<bool>());
    }
};

} // namespace

TEST(Listener, ReceivesNotificationsWithPayload)
{
    ASSERT_TRUE(sigpipeIgnored);
    Subscribed s;
    s.send("build_finished", "42\t7");
    s.send("builds_added", "1001");
    s.send("unrelated_channel", "x");
    EXPECT_TRUE(s.inbox.waitFor("build_finished", "42\t7"));
    EXPECT_TRUE(s.inbox.waitFor("builds_added", "1001"));
    s.send("build_finished", "sentinel");
    ASSERT_TRUE(s.inbox.waitFor("build_finished", "sentinel"));
    EXPECT_EQ(s.inbox.count(), 3u); // nothing from channels it does not listen on
    EXPECT_EQ(s.inbox.gaps(), 0);
}

TEST(Listener, ReconnectsAfterItsBackendIsKilledAndReportsTheGap)
{
    Subscribed s;
    int pid = s.listener.backendPid();
    ASSERT_NE(pid, 0);
    s.terminate(pid);
    ASSERT_TRUE(s.inbox.waitForGaps(1));
    EXPECT_NE(s.listener.backendPid(), pid);
    EXPECT_GE(s.listener.reconnects(), 1);
    // onGap() comes after re-LISTEN: anything sent from now on must arrive.
    s.send("builds_added", "after-kill");
    EXPECT_TRUE(s.inbox.waitFor("builds_added", "after-kill"));
    s.send("build_finished", "after-kill-2");
    EXPECT_TRUE(s.inbox.waitFor("build_finished", "after-kill-2"));
}

TEST(Listener, ReconnectsAfterAServerRestart)
{
    Subscribed s;
    s.send("builds_added", "before");
    ASSERT_TRUE(s.inbox.waitFor("builds_added", "before"));
    test::PgCluster::get().cluster().restart();
    ASSERT_TRUE(s.inbox.waitForGaps(1));
    s.send("builds_added", "after-restart");
    EXPECT_TRUE(s.inbox.waitFor("builds_added", "after-restart"));
}

TEST(Listener, StopsPromptlyEvenWhileBackingOff)
{
    Subscribed s;
    // Make every reconnection fail (the database is gone), with back-off far longer than the
    // bound we allow for stopping.
    auto db = test::PgCluster::get().freshDatabase();
    auto conninfo = test::PgCluster::get().conninfo(db);
    auto listener = std::make_unique<Listener>(
        conninfo, std::vector<std::string>{"builds_added"}, [](const std::string&, const std::string&) {},
        [] {}, ListenerOptions{.pollInterval = 100ms, .initialBackoff = 600s, .maxBackoff = 600s});
    {
        pqxx::connection c(s.conninfo);
        pqxx::nontransaction t(c);
        t.exec("DROP DATABASE " + c.quote_name(db) + " WITH (FORCE)");
    }
    for (int i = 0; i < 600 && listener->backendPid() != 0; ++i) std::this_thread::sleep_for(50ms);
    ASSERT_EQ(listener->backendPid(), 0) << "the listener did not notice its database was dropped";
    auto stopped = std::async(std::launch::async, [&] { listener.reset(); });
    EXPECT_EQ(stopped.wait_for(30s), std::future_status::ready) << "the listener did not stop";
}

TEST(Listener, StopClosesTheConnection)
{
    Subscribed s;
    int pid = s.listener.backendPid();
    ASSERT_NE(pid, 0);
    s.listener.stop();
    EXPECT_EQ(s.listener.backendPid(), 0);
    pqxx::connection c(s.conninfo);
    // The server notices the closed socket asynchronously: poll (bounded) for the backend to go.
    bool gone = false;
    for (int i = 0; i < 600 && !gone; ++i) {
        pqxx::nontransaction t(c);
        gone =
            t.exec_params("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pid)[0][0].as<int>() == 0;
        if (!gone) std::this_thread::sleep_for(50ms);
    }
    EXPECT_TRUE(gone);
}

TEST(Listener, UnreachableDatabaseIsNamedAtConstruction)
{
    auto& pg = test::PgCluster::get();
    auto conninfo = pg.conninfo("no_such_database_hydra");
    try {
        Listener l(
            conninfo, {"builds_added"}, [](const std::string&, const std::string&) {}, [] {});
        FAIL() << "listening on a database that does not exist";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("no_such_database_hydra"), std::string::npos) << e.what();
    }
}

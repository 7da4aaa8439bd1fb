// ConnectionPool against a real PostgreSQL: the server never sees more than the maximum number
// of connections, acquire times out clearly, and a server restart is survived.

#include "db/connection_pool.hh"
#include "harness/pg_fixture.hh"
#include "util/error.hh"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <thread>
#include <vector>

using namespace hydra;
using namespace hydra::db;
using namespace std::chrono_literals;

namespace {

const bool sigpipeIgnored = [] { return std::signal(SIGPIPE, SIG_IGN) != SIG_ERR; }();

/// A fresh, empty database of the test cluster.
struct TestDb {
    std::string name;
    std::string conninfo;
};

TestDb freshDb()
{
    auto& pg = test::PgCluster::get();
    auto name = pg.freshDatabase();
    return {name, pg.conninfo(name)};
}

/// Connections to `db` the server has, not counting the one asking.
long serverConnections(pqxx::connection& monitor, const std::string& db)
{
    pqxx::nontransaction t(monitor);
    return t
        .exec_params("SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
                     db)[0][0]
        .as<long>();
}

/// The server's count once it settles: closed connections leave pg_stat_activity asynchronously.
long settledServerConnections(pqxx::connection& monitor, const std::string& db, long expected)
{
    long n = serverConnections(monitor, db);
    for (int i = 0; i < 200 && n != expected; ++i) {
        std::this_thread::sleep_for(50ms);
        n = serverConnections(monitor, db);
    }
    return n;
}

int selectValue(ConnectionPool& pool, int v)
{
    return pool.withTransaction(
        [v](pqxx::work& w) { return w.exec_params("SELECT $1::int", v)[0][0].as<int>(); });
}

} // namespace

TEST(ConnectionPool, ServerNeverSeesMoreThanTheMaximum)
{
    ASSERT_TRUE(sigpipeIgnored);
    auto db = freshDb();
    ConnectionPool pool({.conninfo = db.conninfo, .maxConnections = 8, .acquireTimeout = 300s});

    std::atomic<long> peak{0};
    std::atomic<int> samples{0};
    std::jthread monitor([&](std::stop_token st) {
        pqxx::connection mon(db.conninfo);
        while (!st.stop_requested()) {
            long n = serverConnections(mon, db.name);
            peak = std::max(peak.load(), n);
            ++samples;
            std::this_thread::sleep_for(2ms);
        }
    });

    std::atomic<int> succeeded{0};
    std::vector<std::thread> callers;
    for (int i = 0; i < 300; ++i) {
        callers.emplace_back([&, i] {
            try {
                int got = pool.withTransaction([i](pqxx::work& w) {
                    w.exec("SELECT pg_sleep(0.01)");
                    return w.exec_params("SELECT $1::int", i)[0][0].as<int>();
                });
                if (got == i) ++succeeded;
            } catch (const std::exception& e) {
                ADD_FAILURE() << "caller " << i << ": " << e.what();
            }
        });
    }
    for (auto& t : callers) t.join();
    monitor.request_stop();
    monitor.join();

    EXPECT_EQ(succeeded.load(), 300);
    EXPECT_GT(samples.load(), 0);
    EXPECT_LE(peak.load(), 8);
    EXPECT_GT(peak.load(), 1) << "the callers were not actually concurrent";
    EXPECT_LE(pool.size(), 8u);
    pqxx::connection mon(db.conninfo);
    auto open = static_cast<long>(pool.size());
    EXPECT_EQ(settledServerConnections(mon, db.name, open), open);
}

TEST(ConnectionPool, AcquireTimesOutWithAClearErrorWhenAllAreHeld)
{
    auto db = freshDb();
    ConnectionPool pool({.conninfo = db.conninfo, .maxConnections = 2, .acquireTimeout = 200ms});
    {
        auto a = pool.acquire();
        auto b = pool.acquire();
        try {
            pool.acquire();
            FAIL() << "a third connection was handed out";
        } catch (const TimeoutError& e) {
            std::string msg = e.what();
            EXPECT_NE(msg.find("all 2 database connections are in use"), std::string::npos) << msg;
            EXPECT_NE(msg.find("waiting 0."), std::string::npos) << msg;
        }
    }
    EXPECT_EQ(selectValue(pool, 5), 5); // returned connections are served again
    EXPECT_EQ(pool.size(), 2u);
}

TEST(ConnectionPool, UnreachableDatabaseIsNamedAndFreesTheSlot)
{
    auto missing = test::PgCluster::get().freshDatabase() + "_missing";
    ConnectionPool pool(
        {.conninfo = test::PgCluster::get().conninfo(missing), .maxConnections = 1, .acquireTimeout = 5s});
    try {
        pool.acquire();
        FAIL() << "connected to a database that does not exist";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find(missing), std::string::npos) << e.what();
    }
    EXPECT_EQ(pool.size(), 0u);
}

TEST(ConnectionPool, TransactionLostBeforeCommitIsRetriedOnceOnANewConnection)
{
    auto db = freshDb();
    ConnectionPool pool({.conninfo = db.conninfo, .maxConnections = 2, .acquireTimeout = 30s});
    pool.withTransaction([](pqxx::work& w) { w.exec("CREATE TABLE t (attempt int)"); });

    int attempts = 0;
    int result = pool.withTransaction([&](pqxx::work& w) {
        ++attempts;
        w.exec_params("INSERT INTO t VALUES ($1)", attempts);
        if (attempts == 1) w.exec("SELECT pg_terminate_backend(pg_backend_pid())"); // connection dies
        return w.exec("SELECT count(*) FROM t")[0][0].as<int>();
    });
    EXPECT_EQ(attempts, 2);
    EXPECT_EQ(result, 1); // the first attempt's insert was not committed
    auto rows =
        pool.withTransaction([](pqxx::work& w) { return w.exec("SELECT attempt FROM t")[0][0].as<int>(); });
    EXPECT_EQ(rows, 2);
}

TEST(ConnectionPool, TransactionIsRetriedOnlyOnce)
{
    auto db = freshDb();
    ConnectionPool pool({.conninfo = db.conninfo, .maxConnections = 2, .acquireTimeout = 30s});
    int attempts = 0;
    EXPECT_THROW(pool.withTransaction([&](pqxx::work& w) {
        ++attempts;
        w.exec("SELECT pg_terminate_backend(pg_backend_pid())");
    }),
                 pqxx::failure);
    EXPECT_EQ(attempts, 2);
    EXPECT_EQ(selectValue(pool, 3), 3); // and the pool is still usable
}

TEST(ConnectionPool, SqlErrorsAreNotRetriedAndKeepTheConnection)
{
    auto db = freshDb();
    ConnectionPool pool({.conninfo = db.conninfo, .maxConnections = 2, .acquireTimeout = 30s});
    int attempts = 0;
    EXPECT_THROW(pool.withTransaction([&](pqxx::work& w) {
        ++attempts;
        w.exec("SELECT * FROM no_such_table");
    }),
                 pqxx::sql_error);
    EXPECT_EQ(attempts, 1);
    EXPECT_EQ(pool.size(), 1u);
}

TEST(ConnectionPool, SurvivesAServerRestartWithoutANewPool)
{
    auto db = freshDb();
    ConnectionPool pool({.conninfo = db.conninfo, .maxConnections = 4, .acquireTimeout = 60s});
    {
        std::vector<ConnectionPool::Handle> held;
        for (int i = 0; i < 4; ++i) held.push_back(pool.acquire());
        for (auto& h : held) pqxx::nontransaction(*h).exec("SELECT 1");
        ASSERT_EQ(pool.size(), 4u);
        auto inUse = std::move(held.back());
        held.pop_back();
        held.clear(); // three idle, one in use while the server goes away

        test::PgCluster::get().cluster().restart();

        try {
            pqxx::nontransaction(*inUse).exec("SELECT 1");
            ADD_FAILURE() << "a query over a connection from before the restart succeeded";
        } catch (const pqxx::failure& e) {
            EXPECT_TRUE(ConnectionPool::connectionLost(*inUse, e)) << e.what();
            inUse.markBroken();
        }
    }
    for (int i = 0; i < 10; ++i) EXPECT_EQ(selectValue(pool, i), i);
    EXPECT_LE(pool.size(), 4u);

    // Concurrent use after the restart too: the stale idle connections are all replaced.
    std::vector<std::thread> callers;
    std::atomic<int> succeeded{0};
    for (int i = 0; i < 16; ++i)
        callers.emplace_back([&, i] {
            try {
                if (selectValue(pool, i) == i) ++succeeded;
            } catch (const std::exception& e) {
                ADD_FAILURE() << "caller " << i << ": " << e.what();
            }
        });
    for (auto& t : callers) t.join();
    EXPECT_EQ(succeeded.load(), 16);
}

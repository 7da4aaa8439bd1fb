// The private PostgreSQL cluster: start/stop/restart, crash recovery, running as the
// unprivileged user, database resolution; and the test fixture built on it.

#include "db/private_cluster.hh"
#include "harness/pg_fixture.hh"
#include "util/error.hh"

#include <gtest/gtest.h>
#include <pqxx/pqxx>

using hydra::test::PgCluster;

TEST(PgFixture, FreshDatabasesAreDistinctAndEmpty)
{
    auto a = PgCluster::get().freshDatabase();
    auto b = PgCluster::get().freshDatabase();
    EXPECT_NE(a, b);
    pqxx::connection ca(PgCluster::get().conninfo(a));
    pqxx::work tx(ca);
    tx.exec("CREATE TABLE t (x int)");
    tx.commit();
    pqxx::connection cb(PgCluster::get().conninfo(b));
    pqxx::nontransaction q(cb);
    auto r = q.exec("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'");
    EXPECT_EQ(r[0][0].as<int>(), 0);
}

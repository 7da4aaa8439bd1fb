#include "db/connect.hh"
#include "util/error.hh"

#include <gtest/gtest.h>

using namespace hydra;

TEST(Connect, PasswordsNeverReachMessages)
{
    EXPECT_EQ(db::redactConninfo("host=h password=s3cret user=u"), "host=h password=*** user=u");
    EXPECT_EQ(db::redactConninfo("host=h password='a b\\' c' user=u"), "host=h password=*** user=u");
    EXPECT_EQ(db::redactConninfo("postgresql://hydra:s3cret@db.example/hydra"),
              "postgresql://hydra:***@db.example/hydra");
}

TEST(Connect, ConnectTimeoutIsAlwaysSet)
{
    EXPECT_EQ(db::withConnectTimeout("dbname=hydra"), "dbname=hydra connect_timeout=10");
    EXPECT_EQ(db::withConnectTimeout("dbname=hydra connect_timeout=3"), "dbname=hydra connect_timeout=3");
    EXPECT_EQ(db::withConnectTimeout("postgresql://h/hydra"), "postgresql://h/hydra?connect_timeout=10");
    EXPECT_EQ(db::withConnectTimeout("postgresql://h/hydra?sslmode=require"),
              "postgresql://h/hydra?sslmode=require&connect_timeout=10");
}

TEST(Connect, UnreachableServerGivesOneLineNamingTheDatabase)
{
    try {
        db::connect("host=127.0.0.1 port=1 dbname=nowhere password=pw");
        FAIL() << "connected to nothing";
    } catch (const Error& e) {
        std::string msg = e.what();
        EXPECT_TRUE(msg.starts_with("cannot connect to the database (host=127.0.0.1 port=1 dbname=nowhere "
                                    "password=***): "))
            << msg;
        EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
        EXPECT_EQ(msg.find("pw"), std::string::npos) << msg;
    }
}

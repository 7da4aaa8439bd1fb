// conninfoFromDbi: Hydra's HYDRA_DBI forms, libpq URLs and conninfo strings, and clear errors.

#include "db/conninfo.hh"
#include "util/error.hh"

#include <gtest/gtest.h>

using hydra::db::conninfoFromDbi;

namespace {

std::string errorOf(std::string_view input)
{
    try {
        conninfoFromDbi(input);
    } catch (const hydra::Error& e) {
        return e.what();
    }
    ADD_FAILURE() << "no error for " << input;
    return {};
}

} // namespace

TEST(ConninfoFromDbi, HydraDefaultDbi)
{
    EXPECT_EQ(conninfoFromDbi("dbi:Pg:dbname=hydra;"), "dbname='hydra'");
    EXPECT_EQ(conninfoFromDbi("dbi:Pg:dbname=hydra;host=db.example.org;port=5433;user=hydra;password=s3cret"),
              "dbname='hydra' host='db.example.org' port='5433' user='hydra' password='s3cret'");
}

TEST(ConninfoFromDbi, AliasesAndCaseInsensitiveKeys)
{
    EXPECT_EQ(conninfoFromDbi("dbi:Pg:database=a"), "dbname='a'");
    EXPECT_EQ(conninfoFromDbi("dbi:Pg:db=a;HOST=h"), "dbname='a' host='h'");
    EXPECT_EQ(conninfoFromDbi("DBI:pg:DbName=a"), "dbname='a'");
}

TEST(ConninfoFromDbi, EmptyValuesAndSpacesAreKept)
{
    EXPECT_EQ(conninfoFromDbi("dbi:Pg:dbname=hydra;host=;password="), "dbname='hydra' host='' password=''");
    EXPECT_EQ(conninfoFromDbi("dbi:Pg: dbname = hydra ; host = /run/pg ;"), "dbname='hydra' host='/run/pg'");
}

TEST(ConninfoFromDbi, ValuesAreQuotedForLibpq)
{
    EXPECT_EQ(conninfoFromDbi(R"(dbi:Pg:dbname=my db;password=it's\x)"),
              R"(dbname='my db' password='it\'s\\x')");
    // A value already quoted libpq-style (DBD::Pg hands these to libpq) is unquoted first.
    EXPECT_EQ(conninfoFromDbi(R"(dbi:Pg:dbname='my db';password='a\'b')"),
              R"(dbname='my db' password='a\'b')");
}

TEST(ConninfoFromDbi, UrlsAndConninfoPassThrough)
{
    EXPECT_EQ(conninfoFromDbi("postgresql://hydra@localhost:5432/hydra"),
              "postgresql://hydra@localhost:5432/hydra");
    EXPECT_EQ(conninfoFromDbi("postgres:///hydra?host=/run/postgresql"),
              "postgres:///hydra?host=/run/postgresql");
    EXPECT_EQ(conninfoFromDbi("dbname=hydra host=/tmp"), "dbname=hydra host=/tmp");
    EXPECT_EQ(conninfoFromDbi("  dbname = 'a b' user=x  "), "dbname = 'a b' user=x");
}

TEST(ConninfoFromDbi, OtherDriversAreRejectedByName)
{
    auto msg = errorOf("dbi:mysql:database=hydra;host=h");
    EXPECT_NE(msg.find("dbi:mysql:database=hydra;host=h"), std::string::npos) << msg;
    EXPECT_NE(msg.find("'mysql' is not supported"), std::string::npos) << msg;
    EXPECT_NE(msg.find("expected"), std::string::npos) << msg;
    EXPECT_NE(errorOf("dbi:SQLite:dbname=x").find("SQLite"), std::string::npos);
    EXPECT_NE(errorOf("dbi:Pg").find("not supported"), std::string::npos);
}

TEST(ConninfoFromDbi, GarbageIsRejectedNamingTheInput)
{
    auto msg = errorOf("hello world");
    EXPECT_NE(msg.find("'hello world'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("dbi:Pg:dbname="), std::string::npos) << msg;
    EXPECT_NE(errorOf("").find("empty"), std::string::npos);
    EXPECT_NE(errorOf("mysql://x/y").find("mysql://x/y"), std::string::npos);
    EXPECT_NE(errorOf("dbname='unterminated").find("unterminated"), std::string::npos);
    EXPECT_NE(errorOf("dbi:Pg:dbname=x;hydra").find("'hydra' has no '='"), std::string::npos);
    EXPECT_NE(errorOf("dbi:Pg:").find("no connection parameters"), std::string::npos);
}

TEST(ConninfoFromDbi, MisspelledKeysAreNamed)
{
    EXPECT_NE(errorOf("dbi:Pg:dbnmae=hydra").find("unknown connection parameter 'dbnmae'"),
              std::string::npos);
    EXPECT_NE(errorOf("dbname=hydra hots=x").find("'hots'"), std::string::npos);
}

TEST(ConninfoFromDbi, PasswordsStayOutOfErrors)
{
    auto msg = errorOf("dbi:Pg:dbname=x;password=topsecret;bogus=1");
    EXPECT_EQ(msg.find("topsecret"), std::string::npos) << msg;
    EXPECT_NE(msg.find("'bogus'"), std::string::npos) << msg;
    msg = errorOf("password=topsecret bogus=1");
    EXPECT_EQ(msg.find("topsecret"), std::string::npos) << msg;
}

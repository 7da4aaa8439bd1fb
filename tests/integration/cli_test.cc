// The `hydra` command as an operator runs it: real binary, real PostgreSQL.

#include "db/connect.hh"
#include "db/users.hh"
#include "harness/hydra_rows.hh"
#include "harness/nix_graph.hh"
#include "harness/pg_fixture.hh"
#include "util/password.hh"
#include "util/process.hh"

#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <sstream>
#include <thread>

using namespace hydra;
using namespace std::chrono_literals;

namespace {

const std::string binDir = std::string(HYDRA_BINARY_DIR) + "/bin";

struct Cli {
    std::map<std::string, std::string> env;

    RunResult run(const std::string& program, std::vector<std::string> args, const std::string& input = "")
    {
        args.insert(args.begin(), binDir + "/" + program);
        ProcessOptions o{.argv = args, .setEnv = env, .unsetEnv = {"HYDRA_CONFIG", "HYDRA_DBI"}};
        return hydra::run(o, input, std::chrono::minutes(2));
    }
};

int exitCode(const RunResult& r)
{
    return WIFEXITED(r.status) ? WEXITSTATUS(r.status) : -1;
}

// One clear message: a single line on stderr.
void expectOneLineError(const RunResult& r, const std::string& fragment)
{
    EXPECT_NE(exitCode(r), 0);
    EXPECT_NE(r.err.find(fragment), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

class CliTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        dbName = test::PgCluster::get().freshDatabase();
        conninfo = test::PgCluster::get().conninfo(dbName);
        cli.env["HYDRA_DBI"] = conninfo;
        stateDir = std::filesystem::temp_directory_path() / ("hydra-cli-" + dbName);
        std::filesystem::create_directories(stateDir);
        cli.env["HYDRA_DATA"] = stateDir.string();
    }
    void TearDown() override { std::filesystem::remove_all(stateDir); }

    std::string dbName, conninfo;
    std::filesystem::path stateDir;
    Cli cli;
};

} // namespace

TEST_F(CliTest, InitCreatesSchemaAndSecondRunChangesNothing)
{
    auto first = cli.run("hydra", {"init"});
    ASSERT_EQ(exitCode(first), 0) << first.err;
    EXPECT_EQ(first.out, "created schema version 87\n");
    auto second = cli.run("hydra-init", {});
    ASSERT_EQ(exitCode(second), 0) << second.err;
    EXPECT_EQ(second.out, "schema is up to date (version 87)\n");
}

TEST_F(CliTest, InitRefusesNewerSchema)
{
    ASSERT_EQ(exitCode(cli.run("hydra", {"init"})), 0);
    auto c = db::connect(conninfo);
    pqxx::work w(*c);
    w.exec("UPDATE SchemaVersion SET version = 99");
    w.commit();
    auto r = cli.run("hydra", {"init"});
    expectOneLineError(r, "database schema version 99 is newer than this hydra supports (87)");
}

TEST_F(CliTest, UnreachableDatabaseIsOneClearMessage)
{
    cli.env["HYDRA_DBI"] = "dbi:Pg:dbname=hydra;host=127.0.0.1;port=1";
    auto r = cli.run("hydra", {"init"});
    expectOneLineError(r, "hydra init: error: cannot connect to the database (");
}

TEST_F(CliTest, MalformedConfigNamesFileAndLine)
{
    auto conf = stateDir / "bad.conf";
    std::ofstream(conf) << "max_db_connections = 4\n<runcommand>\n  job = *:*:*\n";
    cli.env["HYDRA_CONFIG"] = conf.string();
    auto r = cli.run("hydra", {"init"});
    expectOneLineError(r, conf.string() + ":2");
}

TEST_F(CliTest, CreateUserStoresSlowSaltedHashAndRoles)
{
    ASSERT_EQ(exitCode(cli.run("hydra", {"init"})), 0);
    auto r = cli.run("hydra-create-user",
                     {"alice", "--full-name", "Alice", "--email-address", "a@example.org",
                      "--password-prompt", "--role", "admin", "--role", "restart-jobs"},
                     "s3cret\n");
    ASSERT_EQ(exitCode(r), 0) << r.err;
    EXPECT_EQ(r.out, "created user 'alice'\n");
    auto c = db::connect(conninfo);
    auto hash = db::userPasswordHash(*c, "alice");
    ASSERT_TRUE(hash);
    EXPECT_TRUE(hash->starts_with("$argon2id$")) << *hash;
    EXPECT_TRUE(verifyPassword("s3cret", *hash));
    EXPECT_EQ(db::userRoles(*c, "alice"), (std::vector<std::string>{"admin", "restart-jobs"}));

    // Updating keeps the password and, with --wipe-roles, replaces the roles.
    r = cli.run("hydra", {"create-user", "alice", "--wipe-roles", "--role", "cancel-build"});
    ASSERT_EQ(exitCode(r), 0) << r.err;
    EXPECT_EQ(r.out, "updated user 'alice'\n");
    EXPECT_EQ(db::userRoles(*c, "alice"), (std::vector<std::string>{"cancel-build"}));
    EXPECT_EQ(db::userPasswordHash(*c, "alice"), hash);
}

TEST_F(CliTest, CreateUserAcceptsExistingHashesOnly)
{
    ASSERT_EQ(exitCode(cli.run("hydra", {"init"})), 0);
    auto ok = cli.run("hydra",
                      {"create-user", "bob", "--password-hash", "8843d7f92416211de9ebb963ff4ce28125932878"});
    ASSERT_EQ(exitCode(ok), 0) << ok.err;
    expectOneLineError(cli.run("hydra", {"create-user", "carol", "--password-hash", "plain"}),
                       "--password-hash");
    expectOneLineError(cli.run("hydra", {"create-user", "carol", "--role", "superuser"}),
                       "unknown role 'superuser'");
}

TEST_F(CliTest, CreateUserBeforeInitSaysToRunInit)
{
    expectOneLineError(cli.run("hydra", {"create-user", "dave"}), "run `hydra init` first");
}

TEST_F(CliTest, UpStatusDownWithPrivateCluster)
{
    cli.env.erase("HYDRA_DBI");
    auto up = cli.run("hydra", {"up"});
    ASSERT_EQ(exitCode(up), 0) << up.err;
    EXPECT_NE(up.out.find("schema: version 87"), std::string::npos) << up.out;
    EXPECT_NE(up.out.find("(private cluster)"), std::string::npos) << up.out;
    EXPECT_NE(up.out.find("hydra-queue-runner: started"), std::string::npos) << up.out;
    EXPECT_NE(up.out.find("hydra-notify: started"), std::string::npos) << up.out;
    EXPECT_TRUE(std::filesystem::exists(stateDir / "hydra.conf")) << up.out;

    // Running up again is harmless.
    ASSERT_EQ(exitCode(cli.run("hydra", {"up"})), 0);
    ASSERT_EQ(exitCode(cli.run("hydra", {"create-user", "erin", "--role", "admin"})), 0);
    auto status = cli.run("hydra", {"status"});
    ASSERT_EQ(exitCode(status), 0) << status.err;
    EXPECT_NE(status.out.find("users: 1"), std::string::npos) << status.out;
    EXPECT_NE(status.out.find("hydra-queue-runner: running"), std::string::npos) << status.out;

    auto down = cli.run("hydra", {"down"});
    ASSERT_EQ(exitCode(down), 0) << down.err;
    EXPECT_NE(down.out.find("hydra-queue-runner: stopped"), std::string::npos) << down.out;
    EXPECT_NE(down.out.find("hydra-notify: stopped"), std::string::npos) << down.out;
    auto after = cli.run("hydra", {"status"});
    EXPECT_NE(exitCode(after), 0);
    EXPECT_NE(after.err.find("is not running; run `hydra up`"), std::string::npos) << after.err;
}

TEST_F(CliTest, UpBuildsAQueuedBuildAndTheExampleConfigRecordsItsNotification)
{
    // With the test's database (HYDRA_DBI): queue a build, and the daemons `hydra up` starts
    // build it and run the example RunCommand, which appends the build's HYDRA_JSON.
    cli.env["NIX_CONFIG"] = "substituters =\nsandbox = false";
    auto up = cli.run("hydra", {"up"});
    ASSERT_EQ(exitCode(up), 0) << up.err;
    ASSERT_NE(up.out.find("wrote an example"), std::string::npos) << up.out;

    test::NixGraph g;
    g.add("hello");
    auto d = g.derivations().at("hello");
    pqxx::connection c(conninfo);
    test::HydraRows rows(c);
    auto id = rows.queueBuild(rows.jobset(), "hello", d.drvPath, d.out());
    rows.announceAdded(id);

    auto log = stateDir / "finished-builds.log";
    std::string text;
    for (auto deadline = std::chrono::steady_clock::now() + 120s; std::chrono::steady_clock::now() < deadline;
         std::this_thread::sleep_for(200ms)) {
        std::ifstream f(log);
        std::stringstream ss;
        ss << f.rdbuf();
        text = ss.str();
        if (text.find("\"build\": " + std::to_string(id)) != std::string::npos ||
            text.find("\"build\":" + std::to_string(id)) != std::string::npos)
            break;
    }
    auto down = cli.run("hydra", {"down"});
    EXPECT_EQ(exitCode(down), 0) << down.err;
    EXPECT_NE(text.find(d.out()), std::string::npos) << "finished-builds.log: " << text;
    EXPECT_NE(text.find("\"buildStatus\""), std::string::npos) << text;
}

TEST_F(CliTest, UpWithTheExampleEvaluatesAndBuildsTheExampleJobset)
{
    // The README's first command: the example jobset is evaluated, queued, built and recorded.
    cli.env["NIX_CONFIG"] = "substituters =\nsandbox = false";
    auto example = std::filesystem::path(HYDRA_SOURCE_DIR) / "examples" / "hello";
    auto up = cli.run("hydra", {"up", "--example", example.string()});
    ASSERT_EQ(exitCode(up), 0) << up.err;
    EXPECT_NE(up.out.find("example: created project example, jobset hello"), std::string::npos) << up.out;
    EXPECT_NE(up.out.find("hydra-evaluator: started"), std::string::npos) << up.out;

    pqxx::connection c(conninfo);
    long long done = 0;
    for (auto deadline = std::chrono::steady_clock::now() + 180s;
         done < 5 && std::chrono::steady_clock::now() < deadline; std::this_thread::sleep_for(200ms)) {
        pqxx::read_transaction t(c);
        done = t.exec1("SELECT count(*) FROM Builds WHERE project = 'example' AND jobset = "
                       "'hello' AND finished = 1 AND buildStatus = 0")[0]
                   .as<long long>();
    }
    auto down = cli.run("hydra", {"down"});
    EXPECT_EQ(exitCode(down), 0) << down.err;
    EXPECT_EQ(done, 5)
        << "the example's five jobs (greeting, shout, count, report, release) were not all built";
    pqxx::read_transaction t(c);
    EXPECT_EQ(t.exec1("SELECT count(*) FROM JobsetEvals")[0].as<long long>(), 1);
    EXPECT_EQ(t.exec1("SELECT count(*) FROM AggregateConstituents")[0].as<long long>(), 4);
}

// The `hydra` command as an operator runs it: real binary, real PostgreSQL.

#include "db/connect.hh"
#include "db/projects.hh"
#include "db/users.hh"
#include "harness/hydra_rows.hh"
#include "harness/nix_graph.hh"
#include "harness/pg_fixture.hh"
#include "util/password.hh"
#include "util/process.hh"

#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <httplib.h>
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
        ProcessOptions o{
            .argv = args, .setEnv = env, .unsetEnv = {"HYDRA_CONFIG", "HYDRA_DBI", "HYDRA_DATABASE_URL"}};
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

/// How many of the example's builds succeeded within 180 s (all five: stops waiting).
long long waitForExampleBuilds(const std::string& conninfo)
{
    pqxx::connection c(conninfo);
    long long done = 0;
    for (auto deadline = std::chrono::steady_clock::now() + 180s;
         done < 5 && std::chrono::steady_clock::now() < deadline; std::this_thread::sleep_for(200ms)) {
        pqxx::read_transaction t(c);
        done = t.exec1("SELECT count(*) FROM Builds b JOIN Jobsets j ON j.id = b.jobset_id WHERE "
                       "j.project = 'example' AND j.name = 'hello' AND finished = 1 AND buildStatus = 0")[0]
                   .as<long long>();
    }
    return done;
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
    expectOneLineError(r, "hydra init: error: cannot reach the database named by HYDRA_DBI (");
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
                     "s3cret\ns3cret\n");
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

TEST_F(CliTest, InitUpgradesLegacySha1PasswordsInPlaceAndTheOldPasswordStillLogsIn)
{
    ASSERT_EQ(exitCode(cli.run("hydra", {"init"})), 0);
    auto c = db::connect(conninfo);
    // sha1("foobar"), as old Hydra versions stored it.
    db::upsertUser(*c, {.name = "alice", .passwordHash = "8843d7f92416211de9ebb963ff4ce28125932878"});
    std::string janetHash = hashPassword("foobar");
    db::upsertUser(*c, {.name = "janet", .passwordHash = janetHash});
    db::upsertUser(*c, {.name = "nopass"});

    auto r = cli.run("hydra", {"init"});
    ASSERT_EQ(exitCode(r), 0) << r.err;
    EXPECT_NE(r.out.find("upgraded 1 legacy SHA-1 password hash to Argon2id"), std::string::npos) << r.out;
    auto upgraded = db::userPasswordHash(*c, "alice");
    ASSERT_TRUE(upgraded);
    EXPECT_TRUE(upgraded->starts_with("$argon2id$")) << *upgraded;
    EXPECT_TRUE(verifyPassword("foobar", *upgraded));
    EXPECT_FALSE(verifyPassword("foobaz", *upgraded));
    EXPECT_EQ(db::userPasswordHash(*c, "janet"), janetHash) << "an Argon2 hash is left alone";
    EXPECT_EQ(db::userPasswordHash(*c, "nopass"), "!");

    r = cli.run("hydra-init", {});
    ASSERT_EQ(exitCode(r), 0) << r.err;
    EXPECT_EQ(r.out.find("upgraded"), std::string::npos) << r.out;
    EXPECT_EQ(db::userPasswordHash(*c, "alice"), upgraded) << "a second init must change nothing";

    // The login replaces the wrapped SHA-1 by a hash of the password itself, as Hydra does.
    EXPECT_FALSE(db::checkUserPassword(*c, "alice", "foobaz"));
    EXPECT_EQ(db::userPasswordHash(*c, "alice"), upgraded);
    EXPECT_TRUE(db::checkUserPassword(*c, "alice", "foobar"));
    auto relogged = db::userPasswordHash(*c, "alice");
    EXPECT_NE(relogged, upgraded);
    EXPECT_FALSE(checkPassword("8843d7f92416211de9ebb963ff4ce28125932878", *relogged).valid)
        << "after the login the SHA-1 itself is no longer a password";
    EXPECT_TRUE(db::checkUserPassword(*c, "alice", "foobar"));
    EXPECT_EQ(db::userPasswordHash(*c, "alice"), relogged);
    EXPECT_TRUE(db::checkUserPassword(*c, "janet", "foobar"));
    EXPECT_FALSE(db::checkUserPassword(*c, "nopass", "!"));
}

TEST_F(CliTest, CreateUserTakesHydrasOptionsInBothForms)
{
    ASSERT_EQ(exitCode(cli.run("hydra", {"init"})), 0);
    auto r = cli.run("hydra-create-user", {"--full-name=Alice Liddell", "--email-address=alice@example.org",
                                           "--role=admin", "--type=hydra", "alice", "--role", "eval-jobset",
                                           "--password-hash=8843d7f92416211de9ebb963ff4ce28125932878"});
    ASSERT_EQ(exitCode(r), 0) << r.err;
    EXPECT_EQ(r.out, "created user 'alice'\n");
    auto c = db::connect(conninfo);
    auto alice = db::findUser(*c, "alice");
    ASSERT_TRUE(alice);
    EXPECT_EQ(alice->fullName, "Alice Liddell");
    EXPECT_EQ(alice->emailAddress, "alice@example.org");
    EXPECT_EQ(alice->type, "hydra");
    EXPECT_EQ(db::userRoles(*c, "alice"), (std::vector<std::string>{"admin", "eval-jobset"}));
    // A SHA-1 given with --password-hash is stored inside Argon2, as Hydra does.
    EXPECT_TRUE(alice->passwordHash.starts_with("$argon2id$")) << alice->passwordHash;
    EXPECT_TRUE(verifyPassword("foobar", alice->passwordHash));

    r = cli.run("hydra", {"create-user", "--rename-from=alice", "--wipe-roles", "--role=cancel-build",
                          "--full-name=", "liddell"});
    ASSERT_EQ(exitCode(r), 0) << r.err;
    EXPECT_EQ(r.out, "renamed user 'alice' to 'liddell'\n");
    EXPECT_FALSE(db::findUser(*c, "alice"));
    auto renamed = db::findUser(*c, "liddell");
    ASSERT_TRUE(renamed);
    EXPECT_EQ(renamed->fullName, std::nullopt) << "an empty --full-name clears it, as in Hydra";
    EXPECT_EQ(renamed->passwordHash, alice->passwordHash);
    EXPECT_EQ(db::userRoles(*c, "liddell"), (std::vector<std::string>{"cancel-build"}));

    expectOneLineError(cli.run("hydra", {"create-user", "--rename-from=nobody", "x"}),
                       "'nobody': no such user");
    expectOneLineError(cli.run("hydra", {"create-user", "bob", "--type=gitlab"}),
                       "unknown user type 'gitlab'");
    auto flagWithValue = cli.run("hydra", {"create-user", "bob", "--wipe-roles=yes"});
    EXPECT_EQ(exitCode(flagWithValue), 2);
    EXPECT_NE(flagWithValue.err.find("--wipe-roles takes no value"), std::string::npos) << flagWithValue.err;
    EXPECT_FALSE(db::findUser(*c, "bob"));
}

TEST_F(CliTest, CreateUserGivesGoogleAndGithubUsersNoPassword)
{
    ASSERT_EQ(exitCode(cli.run("hydra", {"init"})), 0);
    auto r = cli.run("hydra", {"create-user", "carol@example.org", "--type", "github"});
    ASSERT_EQ(exitCode(r), 0) << r.err;
    auto c = db::connect(conninfo);
    auto carol = db::findUser(*c, "carol@example.org");
    ASSERT_TRUE(carol);
    EXPECT_EQ(carol->emailAddress, "carol@example.org");
    EXPECT_EQ(carol->passwordHash, "!");
    expectOneLineError(cli.run("hydra", {"create-user", "carol@example.org",
                                         "--password-hash=8843d7f92416211de9ebb963ff4ce28125932878"}),
                       "Google and GitHub users have no password");
    EXPECT_EQ(db::findUser(*c, "carol@example.org")->passwordHash, "!");
    expectOneLineError(cli.run("hydra", {"create-user", "dan", "--type=google"}),
                       "must be its e-mail address");
    EXPECT_FALSE(db::findUser(*c, "dan"));
}

TEST_F(CliTest, CreateUserRefusesConflictingPasswordOptions)
{
    ASSERT_EQ(exitCode(cli.run("hydra", {"init"})), 0);
    const std::string sha1 = "--password-hash=8843d7f92416211de9ebb963ff4ce28125932878";
    std::vector<std::pair<std::vector<std::string>, std::string>> cases{
        {{"--password-prompt", sha1}, "--password-prompt and --password-hash cannot be used together"},
        {{"--password=foo", "--password-prompt"}, "--password and --password-prompt cannot be used together"},
        {{"--password=foo", sha1}, "--password and --password-hash cannot be used together"},
        {{"--password=foo", sha1, "--password-prompt"},
         "--password, --password-hash and --password-prompt cannot be used together"},
    };
    for (auto& [options, message] : cases) {
        std::vector<std::string> argv{"create-user", "erin"};
        argv.insert(argv.end(), options.begin(), options.end());
        expectOneLineError(cli.run("hydra", argv, "pw\npw\n"), message);
    }
    auto c = db::connect(conninfo);
    EXPECT_FALSE(db::findUser(*c, "erin"));
}

TEST_F(CliTest, PasswordPromptOnAPipeNeedsTheSamePasswordTwice)
{
    ASSERT_EQ(exitCode(cli.run("hydra", {"init"})), 0);
    auto r = cli.run("hydra-create-user", {"frank", "--password-prompt"}, "my-password\nmy-password\n");
    ASSERT_EQ(exitCode(r), 0) << r.err;
    auto c = db::connect(conninfo);
    auto hash = db::userPasswordHash(*c, "frank");
    ASSERT_TRUE(hash);
    EXPECT_TRUE(verifyPassword("my-password", *hash));

    expectOneLineError(
        cli.run("hydra-create-user", {"frank", "--password-prompt"}, "new-password\nnew-passw0rd\n"),
        "the two passwords differ");
    expectOneLineError(cli.run("hydra-create-user", {"frank", "--password-prompt"}, "new-password\n"),
                       "standard input must repeat it on a second line");
    expectOneLineError(cli.run("hydra-create-user", {"frank", "--password-prompt"}, ""),
                       "no password on standard input");
    EXPECT_EQ(db::userPasswordHash(*c, "frank"), hash) << "a refused prompt must leave the password alone";
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
    EXPECT_NE(up.out.find("hydra-server: started"), std::string::npos) << up.out;
    EXPECT_NE(up.out.find("web pages and JSON API: http://127.0.0.1:3000/"), std::string::npos) << up.out;
    EXPECT_NE(up.out.find("create an administrator: hydra create-user NAME --role admin"), std::string::npos)
        << up.out;
    EXPECT_TRUE(std::filesystem::exists(stateDir / "hydra.conf")) << up.out;
    // The address printed is where the web server answers, once it has reached the database.
    int webStatus = 0;
    for (int i = 0; i < 100 && webStatus != 200; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        httplib::Client client("127.0.0.1", 3000);
        if (auto res = client.Get("/api/nrqueue")) webStatus = res->status;
    }
    EXPECT_EQ(webStatus, 200) << "hydra-server did not answer on port 3000";

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
    cli.env["NIX_CONFIG"] = "substituters =";
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
    cli.env["NIX_CONFIG"] = "substituters =";
    auto example = std::filesystem::path(HYDRA_SOURCE_DIR) / "examples" / "hello";
    auto up = cli.run("hydra", {"up", "--example", example.string()});
    ASSERT_EQ(exitCode(up), 0) << up.err;
    EXPECT_NE(up.out.find("example: created project example, jobset hello"), std::string::npos) << up.out;
    EXPECT_NE(up.out.find("hydra-evaluator: started"), std::string::npos) << up.out;

    // Nix's defaults (the sandbox: no /bin/sh) and the shell from the input busybox.
    EXPECT_NE(up.out.find("example: the builds' shell is " + (stateDir / "example" / "busybox").string()),
              std::string::npos)
        << up.out;
    auto done = waitForExampleBuilds(conninfo);

    // A new site's binary cache signs with a key of its own, whose public half up printed.
    auto keyAt = up.out.find("trusted-public-keys = hydra-1:");
    EXPECT_NE(keyAt, std::string::npos) << up.out;
    std::string shout;
    {
        pqxx::connection c(conninfo);
        pqxx::read_transaction t(c);
        shout =
            t.exec1(
                 "SELECT o.path FROM BuildOutputs o JOIN Builds b ON b.id = o.build WHERE b.job = 'shout'")[0]
                .as<std::string>();
    }
    std::string narinfo;
    for (int i = 0; i < 100 && narinfo.empty(); ++i) {
        httplib::Client client("127.0.0.1", 3000);
        if (auto res = client.Get(("/" + shout.substr(11, 32) + ".narinfo").c_str());
            res && res->status == 200)
            narinfo = res->body;
        else
            std::this_thread::sleep_for(std::chrono::milliseconds(300));
    }
    EXPECT_NE(narinfo.find("StorePath: " + shout + "\n"), std::string::npos) << narinfo;
    EXPECT_NE(narinfo.find("Sig: hydra-1:"), std::string::npos) << narinfo;

    auto down = cli.run("hydra", {"down"});
    EXPECT_EQ(exitCode(down), 0) << down.err;
    EXPECT_EQ(done, 5)
        << "the example's five jobs (greeting, shout, count, report, release) were not all built";
    pqxx::connection c(conninfo);
    pqxx::read_transaction t(c);
    EXPECT_EQ(t.exec1("SELECT count(*) FROM JobsetEvals")[0].as<long long>(), 1);
    EXPECT_EQ(t.exec1("SELECT count(*) FROM AggregateConstituents")[0].as<long long>(), 4);
}

TEST_F(CliTest, UpWithTheExampleGivesAnExampleMadeBeforeTheShellAndItBuilds)
{
    // The example jobset as `hydra up --example` made it when builds used the host's /bin/sh.
    cli.env["NIX_CONFIG"] = "substituters =";
    auto example = std::filesystem::path(HYDRA_SOURCE_DIR) / "examples" / "hello";
    ASSERT_EQ(exitCode(cli.run("hydra", {"init"})), 0);
    {
        pqxx::connection c(conninfo);
        pqxx::work t(c);
        db::createJobsetIfMissing(t,
                                  {.project = "example",
                                   .jobset = "hello",
                                   .nixExprInput = "src",
                                   .nixExprPath = "release.nix",
                                   .checkInterval = 60,
                                   .inputs = {{.name = "src", .type = "path", .value = example.string()}}});
        t.commit();
    }
    auto up = cli.run("hydra", {"up", "--example", example.string()});
    ASSERT_EQ(exitCode(up), 0) << up.err;
    EXPECT_NE(up.out.find("example: gave jobset example:hello the input busybox"), std::string::npos)
        << up.out;
    auto done = waitForExampleBuilds(conninfo);
    auto down = cli.run("hydra", {"down"});
    EXPECT_EQ(exitCode(down), 0) << down.err;
    EXPECT_EQ(done, 5) << "the older example's jobs were not all built";
}

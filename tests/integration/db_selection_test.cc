// Dropping hydra onto an existing database: HYDRA_DATABASE_URL (as Hydra's NixOS module writes
// it, with a percent-encoded socket directory) is what every program uses, before HYDRA_DBI; a
// database that cannot be reached is never swapped for the private cluster; daemons wait for
// it, and refuse a schema version they do not know. Real programs, real PostgreSQL.

#include "db/connect.hh"
#include "db/schema.hh"
#include "harness/pg_fixture.hh"
#include "util/process.hh"

#include <cctype>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <functional>
#include <gtest/gtest.h>
#include <pqxx/pqxx>
#include <thread>

using namespace hydra;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

const std::string binDir = std::string(HYDRA_BINARY_DIR) + "/bin";
const std::vector<std::string> daemons = {"hydra-queue-runner", "hydra-evaluator", "hydra-notify"};
// What the ready daemon logs once it works on its database.
const std::map<std::string, std::string> readyLine = {{"hydra-queue-runner", "hydra-queue-runner started"},
                                                      {"hydra-evaluator", "hydra-evaluator: started"},
                                                      {"hydra-notify", "hydra-notify: listening"}};

std::string percentEncode(std::string_view s)
{
    std::string out;
    for (char c : s) {
        auto u = static_cast<unsigned char>(c);
        if (std::isalnum(u) || c == '-' || c == '_' || c == '.')
            out += c;
        else
            out += fmt::format("%{:02X}", u);
    }
    return out;
}

int exitCode(int status)
{
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

size_t count(const std::string& text, const std::string& what)
{
    size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
}

std::string readFile(const std::string& path)
{
    std::ifstream f(path);
    return {std::istreambuf_iterator<char>(f), {}};
}

bool waitFor(const std::function<bool()>& done, std::chrono::seconds limit)
{
    for (auto deadline = std::chrono::steady_clock::now() + limit;
         std::chrono::steady_clock::now() < deadline; std::this_thread::sleep_for(50ms))
        if (done()) return true;
    return done();
}

class DbSelectionTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        auto& pg = test::PgCluster::get();
        dbName = pg.freshDatabase();
        conninfo = pg.conninfo(dbName);
        pqxx::connection c(conninfo);
        socketDir = c.hostname();
        port = c.port();
        user = c.username();
        url = urlFor(dbName);
        stateDir = test::makeTempDir("hydra-dbsel-");
        // Port 0: no clash with another runner's metrics on the default port.
        std::ofstream(stateDir + "/hydra.conf") << "queue_runner_metrics_address = 127.0.0.1:0\n";
        env = {{"HYDRA_DATABASE_URL", url},
               {"HYDRA_DATA", stateDir},
               {"HYDRA_CONFIG", stateDir + "/hydra.conf"},
               {"NIX_CONFIG", "substituters ="}};
    }
    void TearDown() override { fs::remove_all(stateDir); }

    // Hydra's NixOS module form: the socket directory percent-encoded as the URL's host.
    std::string urlFor(const std::string& db) const
    {
        return fmt::format("postgresql://{}@{}:{}/{}", user, percentEncode(socketDir), port, db);
    }

    void initSchema()
    {
        auto c = db::connect(conninfo);
        db::initSchema(*c);
    }

    void setSchemaVersion(int version)
    {
        auto c = db::connect(conninfo);
        pqxx::work w(*c);
        w.exec("UPDATE SchemaVersion SET version = " + std::to_string(version));
        w.commit();
    }

    ProcessOptions options(const std::string& program, std::vector<std::string> args = {}) const
    {
        args.insert(args.begin(), binDir + "/" + program);
        return ProcessOptions{.argv = args, .setEnv = env, .unsetEnv = {"HYDRA_DBI"}};
    }

    RunResult runProgram(const std::string& program, std::vector<std::string> args = {}) const
    {
        return hydra::run(options(program, std::move(args)), "", 2min);
    }

    // A daemon running in the background, its output in <stateDir>/<program>.log.
    Process spawnDaemon(const std::string& program) const
    {
        auto o = options(program);
        o.outputFile = logOf(program);
        o.dieWithParent = true;
        return Process::spawn(o);
    }
    std::string logOf(const std::string& program) const { return stateDir + "/" + program + ".log"; }

    // Sessions of the daemons waiting for notifications on the test's database.
    long long listeners() const
    {
        auto c = db::connect(conninfo);
        pqxx::nontransaction n(*c);
        return n
            .exec_params1(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND query ILIKE 'LISTEN %'",
                dbName)[0]
            .as<long long>();
    }

    bool privateClusterCreated() const { return fs::exists(stateDir + "/postgres"); }

    std::string dbName, conninfo, socketDir, port, user, url, stateDir;
    std::map<std::string, std::string> env;
};

} // namespace

TEST_F(DbSelectionTest, StatusAndInitUseThePercentEncodedUrl)
{
    auto init = runProgram("hydra", {"init"});
    ASSERT_EQ(exitCode(init.status), 0) << init.err;
    EXPECT_EQ(init.out, fmt::format("created schema version {}\n", db::latestSchemaVersion()));

    auto status = runProgram("hydra", {"status"});
    ASSERT_EQ(exitCode(status.status), 0) << status.err;
    EXPECT_NE(status.out.find("database: " + url + " (HYDRA_DATABASE_URL)"), std::string::npos) << status.out;
    EXPECT_NE(status.out.find(fmt::format("schema: version {}", db::latestSchemaVersion())),
              std::string::npos)
        << status.out;
    EXPECT_FALSE(privateClusterCreated());
}

TEST_F(DbSelectionTest, HostInTheQueryStringWorksToo)
{
    initSchema();
    env["HYDRA_DATABASE_URL"] =
        fmt::format("postgresql:///{}?host={}&port={}&user={}", dbName, socketDir, port, user);
    auto status = runProgram("hydra", {"status"});
    ASSERT_EQ(exitCode(status.status), 0) << status.err;
    EXPECT_NE(status.out.find("users: 0"), std::string::npos) << status.out;
    EXPECT_FALSE(privateClusterCreated());
}

TEST_F(DbSelectionTest, DatabaseUrlWinsOverHydraDbi)
{
    initSchema();
    // HYDRA_DBI names an empty database: were it used, status would report no schema.
    env["HYDRA_DBI"] = test::PgCluster::get().conninfo(test::PgCluster::get().freshDatabase());
    auto o = options("hydra", {"status"});
    o.unsetEnv.clear();
    auto status = hydra::run(o, "", 2min);
    ASSERT_EQ(exitCode(status.status), 0) << status.err;
    EXPECT_NE(status.out.find(fmt::format("schema: version {}", db::latestSchemaVersion())),
              std::string::npos)
        << status.out;
    EXPECT_NE(status.out.find("(HYDRA_DATABASE_URL)"), std::string::npos) << status.out;
}

TEST_F(DbSelectionTest, UnreachableUrlIsOneClearErrorAndNoPrivateCluster)
{
    auto nothing = test::makeTempDir("hydra-no-server-");
    env["HYDRA_DATABASE_URL"] = fmt::format("postgresql://hydra@{}/hydra", percentEncode(nothing));
    for (const auto* command : {"status", "init"}) {
        auto r = runProgram("hydra", {command});
        EXPECT_NE(exitCode(r.status), 0) << command;
        EXPECT_EQ(count(r.err, "\n"), 1U) << r.err;
        EXPECT_NE(
            r.err.find(fmt::format("hydra {}: error: cannot reach the database named by HYDRA_DATABASE_URL "
                                   "(postgresql://hydra@{}/hydra): ",
                                   command, percentEncode(nothing))),
            std::string::npos)
            << r.err;
        // libpq's reason, naming where it looked.
        EXPECT_NE(r.err.find(nothing + "/.s.PGSQL.5432"), std::string::npos) << r.err;
    }
    EXPECT_FALSE(privateClusterCreated());
    fs::remove_all(nothing);
}

TEST_F(DbSelectionTest, MalformedUrlIsAnErrorNamingTheVariable)
{
    env["HYDRA_DATABASE_URL"] = "postgresql://hydra@%zz/hydra";
    auto r = runProgram("hydra", {"status"});
    EXPECT_NE(exitCode(r.status), 0);
    EXPECT_NE(r.err.find("hydra status: error: HYDRA_DATABASE_URL is not a PostgreSQL connection URL"),
              std::string::npos)
        << r.err;
    auto d = runProgram("hydra-notify");
    EXPECT_NE(exitCode(d.status), 0);
    EXPECT_NE(d.err.find("hydra-notify: error: HYDRA_DATABASE_URL is not a PostgreSQL connection URL"),
              std::string::npos)
        << d.err;
    EXPECT_FALSE(privateClusterCreated());
}

TEST_F(DbSelectionTest, EachDaemonLogsAndUsesTheDatabaseNamedByTheUrl)
{
    initSchema();
    for (const auto& program : daemons) {
        SCOPED_TRACE(program);
        auto before = listeners();
        auto daemon = spawnDaemon(program);
        bool ready = waitFor(
            [&] { return readFile(logOf(program)).find(readyLine.at(program)) != std::string::npos; }, 60s);
        auto log = readFile(logOf(program));
        ASSERT_TRUE(ready) << log;
        EXPECT_EQ(count(log, program + ": using the database named by HYDRA_DATABASE_URL (" + url + ")"), 1U)
            << log;
        // It really works on that database: it waits for notifications there.
        EXPECT_TRUE(waitFor([&] { return listeners() > before; }, 30s)) << log;
        daemon.kill(SIGTERM);
        auto st = daemon.waitUntil(std::chrono::steady_clock::now() + 60s);
        ASSERT_TRUE(st.has_value()) << "did not stop on SIGTERM";
        EXPECT_EQ(exitCode(*st), 0) << readFile(logOf(program));
    }
    EXPECT_FALSE(privateClusterCreated());
}

TEST_F(DbSelectionTest, DaemonsRefuseASchemaVersionTheyDoNotKnow)
{
    initSchema();
    int known = db::latestSchemaVersion();
    const std::map<int, std::string> refusal = {
        {86, fmt::format(
                 "database schema version 86 is older than this hydra's ({}): run 'hydra init' to upgrade it",
                 known)},
        {99, fmt::format("database schema version 99 is newer than this hydra supports ({}); upgrade hydra",
                         known)}};
    for (const auto& [version, message] : refusal) {
        setSchemaVersion(version);
        for (const auto& program : daemons) {
            SCOPED_TRACE(program + " on schema version " + std::to_string(version));
            auto r = hydra::run(options(program), "", 60s);
            EXPECT_EQ(exitCode(r.status), 1) << r.err;
            EXPECT_NE(r.err.find(program + ": error: " + message + "\n"), std::string::npos) << r.err;
            EXPECT_EQ(count(r.err, "schema version"), 1U) << r.err;
        }
    }
}

TEST_F(DbSelectionTest, ADaemonRefusesADatabaseWithoutHydraSchema)
{
    auto r = hydra::run(options("hydra-queue-runner"), "", 60s);
    EXPECT_EQ(exitCode(r.status), 1) << r.err;
    EXPECT_NE(r.err.find("hydra-queue-runner: error: the database holds no hydra schema: run 'hydra init'\n"),
              std::string::npos)
        << r.err;
}

TEST_F(DbSelectionTest, DaemonsWaitForAnUnreachableDatabaseAndStopPromptly)
{
    auto nothing = test::makeTempDir("hydra-no-server-");
    env["HYDRA_DATABASE_URL"] = fmt::format("postgresql://hydra@{}/hydra", percentEncode(nothing));
    std::vector<Process> running;
    running.reserve(daemons.size());
    for (const auto& program : daemons) running.push_back(spawnDaemon(program));
    const std::string failure = ": cannot reach the database named by HYDRA_DATABASE_URL";
    // Attempts after 0, 1 and 3 s: the third failure means it is now waiting 4 s.
    for (const auto& program : daemons)
        EXPECT_TRUE(waitFor([&] { return count(readFile(logOf(program)), program + failure) >= 3; }, 30s))
            << readFile(logOf(program));
    for (size_t i = 0; i < daemons.size(); ++i) {
        SCOPED_TRACE(daemons[i]);
        auto log = readFile(logOf(daemons[i]));
        EXPECT_NE(log.find("retrying in 2 s"), std::string::npos) << log;
        auto start = std::chrono::steady_clock::now();
        running[i].kill(SIGTERM);
        auto st = running[i].waitUntil(start + 60s);
        ASSERT_TRUE(st.has_value());
        EXPECT_LT(std::chrono::steady_clock::now() - start, 2s) << "stopping waited out the back-off";
        EXPECT_EQ(exitCode(*st), 0) << readFile(logOf(daemons[i]));
    }
    EXPECT_FALSE(privateClusterCreated());
    fs::remove_all(nothing);
}

TEST_F(DbSelectionTest, ADaemonWaitingForItsDatabaseStartsOnceItIsThere)
{
    // The database does not exist yet: every connection is refused until it is created.
    std::string later = dbName + "_later";
    env["HYDRA_DATABASE_URL"] = urlFor(later);
    auto daemon = spawnDaemon("hydra-notify");
    const std::string failure = "hydra-notify: cannot reach the database named by HYDRA_DATABASE_URL";
    ASSERT_TRUE(waitFor([&] { return count(readFile(logOf("hydra-notify")), failure) >= 1; }, 30s))
        << readFile(logOf("hydra-notify"));
    test::PgCluster::get().cluster().createDatabase(later);
    {
        auto c = db::connect(test::PgCluster::get().conninfo(later));
        db::initSchema(*c);
    }
    EXPECT_TRUE(waitFor(
        [&] { return readFile(logOf("hydra-notify")).find("hydra-notify: listening") != std::string::npos; },
        60s))
        << readFile(logOf("hydra-notify"));
    daemon.kill(SIGTERM);
    auto st = daemon.waitUntil(std::chrono::steady_clock::now() + 60s);
    ASSERT_TRUE(st.has_value());
    EXPECT_EQ(exitCode(*st), 0) << readFile(logOf("hydra-notify"));
}

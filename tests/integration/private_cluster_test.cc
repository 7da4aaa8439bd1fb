// The private PostgreSQL cluster: start/stop/restart, crash recovery, running as the
// unprivileged user, the private cluster as the last-resort database; and the test fixture built on it.

#include "db/database_source.hh"
#include "db/private_cluster.hh"
#include "harness/pg_fixture.hh"
#include "util/error.hh"
#include "util/process.hh"

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <pwd.h>
#include <sstream>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>

namespace fs = std::filesystem;
using hydra::db::ClusterOptions;
using hydra::db::DatabaseSource;
using hydra::db::PrivateCluster;
using hydra::test::makeTempDir;
using hydra::test::PgCluster;

namespace {

// A cluster in its own temp dir, stopped and removed when the test suite ends.
struct TempCluster {
    std::string dir = makeTempDir("hydra-pc-");
    PrivateCluster cluster{ClusterOptions{.dataDir = dir + "/pg", .unsafeFast = true}};
    ~TempCluster()
    {
        try {
            cluster.stop();
        } catch (const std::exception& e) {
            ADD_FAILURE() << e.what();
        }
        fs::remove_all(dir);
    }
};

std::string errorOf(const std::function<void()>& f)
{
    try {
        f();
    } catch (const hydra::Error& e) {
        return e.what();
    }
    ADD_FAILURE() << "expected an error";
    return {};
}

// An environment naming no database: the private cluster is the one used.
std::optional<std::string> noEnv(std::string_view)
{
    return std::nullopt;
}

std::vector<pid_t> childrenOf(pid_t parent)
{
    std::vector<pid_t> out;
    for (auto& e : fs::directory_iterator("/proc")) {
        std::ifstream in(e.path() / "stat");
        std::string stat;
        if (!std::getline(in, stat)) continue;
        auto paren = stat.rfind(')');
        if (paren == std::string::npos) continue;
        std::istringstream rest(stat.substr(paren + 2));
        char state;
        long ppid = 0;
        rest >> state >> ppid;
        if (ppid == parent) out.push_back(static_cast<pid_t>(std::stol(e.path().filename().string())));
    }
    return out;
}

// Waits until `pid` has exited, reaping it if it is (or became, as subreaper) our child.
void waitGone(pid_t pid)
{
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
        int st = 0;
        if (::waitpid(pid, &st, WNOHANG) == pid) return;
        if (!fs::exists(fmt::format("/proc/{}", pid))) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    FAIL() << "process " << pid << " did not exit";
}

long long countRows(const std::string& conninfo)
{
    pqxx::connection c(conninfo);
    pqxx::nontransaction q(c);
    return q.exec("SELECT count(*) FROM kept")[0][0].as<long long>();
}

uid_t uidOfProcess(pid_t pid)
{
    std::ifstream in(fmt::format("/proc/{}/status", pid));
    for (std::string line; std::getline(in, line);)
        if (line.rfind("Uid:", 0) == 0) return static_cast<uid_t>(std::stoul(line.substr(4)));
    ADD_FAILURE() << "no Uid line for process " << pid;
    return 0;
}

} // namespace

// One cluster shared by the lifecycle tests: initdb is the slow part. Each test starts it.
class Lifecycle : public ::testing::Test {
protected:
    static void SetUpTestSuite() { tc = new TempCluster; }
    static void TearDownTestSuite()
    {
        delete tc;
        tc = nullptr;
    }
    void SetUp() override
    {
        cluster().ensureRunning();
        pqxx::connection c(cluster().conninfo());
        pqxx::work tx(c);
        tx.exec(
            "CREATE TABLE IF NOT EXISTS kept (x int); DELETE FROM kept; INSERT INTO kept VALUES (1), (2)");
        tx.commit();
    }
    static PrivateCluster& cluster() { return tc->cluster; }
    static inline TempCluster* tc = nullptr;
};

TEST_F(Lifecycle, StartStopRestartKeepPortSocketAndData)
{
    EXPECT_TRUE(cluster().running());
    auto conninfo = cluster().conninfo();
    EXPECT_NE(conninfo.find("dbname='hydra'"), std::string::npos) << conninfo;
    EXPECT_NE(conninfo.find(cluster().socketDir()), std::string::npos) << conninfo;
    auto oldPid = cluster().postmasterPid();
    ASSERT_TRUE(oldPid);

    cluster().restart();
    EXPECT_TRUE(cluster().running());
    EXPECT_EQ(cluster().conninfo(), conninfo);
    EXPECT_NE(cluster().postmasterPid(), oldPid);
    EXPECT_EQ(countRows(conninfo), 2);
    // The old postmaster was reaped, not left as a zombie.
    EXPECT_FALSE(fs::exists(fmt::format("/proc/{}", *oldPid)));

    auto pid = *cluster().postmasterPid();
    cluster().stop();
    EXPECT_FALSE(cluster().running());
    EXPECT_FALSE(cluster().postmasterPid());
    EXPECT_FALSE(fs::exists(fmt::format("/proc/{}", pid)));
    EXPECT_THROW(pqxx::connection{conninfo}, pqxx::broken_connection);
    cluster().stop(); // stopping a stopped cluster is harmless

    // A second object for the same directory (another program) finds the same cluster.
    PrivateCluster other(ClusterOptions{.dataDir = cluster().dataDir()});
    other.ensureRunning();
    EXPECT_EQ(other.conninfo(), conninfo);
    EXPECT_EQ(countRows(conninfo), 2);
}

TEST_F(Lifecycle, EnsureRunningTwiceKeepsTheSameServer)
{
    auto pid = cluster().postmasterPid();
    cluster().ensureRunning();
    cluster().ensureRunning();
    EXPECT_EQ(cluster().postmasterPid(), pid);
    pqxx::connection c(cluster().conninfo());
    EXPECT_EQ(pqxx::nontransaction(c).exec("SELECT current_database()")[0][0].as<std::string>(), "hydra");
}

TEST_F(Lifecycle, RecoversFromKilledPostmasterAndStalePidFile)
{
    pid_t pid = *cluster().postmasterPid();
    auto children = childrenOf(pid);
    // Adopt the server's children so that they can be reaped once the postmaster is gone.
    ::prctl(PR_SET_CHILD_SUBREAPER, 1UL);
    ASSERT_EQ(::kill(pid, SIGKILL), 0);
    waitGone(pid);
    for (pid_t c : children) waitGone(c);
    ::prctl(PR_SET_CHILD_SUBREAPER, 0UL);
    ASSERT_TRUE(fs::exists(cluster().dataDir() + "/postmaster.pid")) << "no stale pid file to recover from";
    EXPECT_FALSE(cluster().running());

    cluster().ensureRunning();
    EXPECT_TRUE(cluster().running());
    EXPECT_NE(cluster().postmasterPid(), pid);
    EXPECT_EQ(countRows(cluster().conninfo()), 2);
}

TEST_F(Lifecycle, StalePidFileNamingAnUnrelatedLiveProcessIsRecovered)
{
    cluster().stop();
    // After a crash and reboot the recorded pid may belong to some other live process.
    hydra::Process unrelated = hydra::Process::spawn({.argv = {"sleep", "60"}});
    {
        std::ofstream pidFile(cluster().dataDir() + "/postmaster.pid");
        pidFile << unrelated.pid() << "\n" << cluster().dataDir() << "\n";
    }
    cluster().ensureRunning();
    EXPECT_TRUE(cluster().running());
    EXPECT_NE(cluster().postmasterPid(), unrelated.pid());
}

TEST_F(Lifecycle, AsRootTheServerRunsAsTheUnprivilegedUser)
{
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    struct passwd* pw = ::getpwnam("hydra");
    ASSERT_NE(pw, nullptr) << "user hydra missing: run scripts/setup.sh";
    EXPECT_EQ(uidOfProcess(*cluster().postmasterPid()), pw->pw_uid);
    struct stat st {};
    ASSERT_EQ(::stat(cluster().dataDir().c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, pw->pw_uid);
    EXPECT_EQ(st.st_mode & 0777, 0700u);
}

TEST(PrivateClusterErrors, MissingUserIsExplained)
{
    if (::geteuid() != 0) GTEST_SKIP() << "only root switches users";
    std::string dir = makeTempDir("hydra-pc-");
    PrivateCluster c(ClusterOptions{.dataDir = dir + "/pg", .runAsUser = "hydra-no-such-user"});
    auto msg = errorOf([&] { c.ensureRunning(); });
    EXPECT_NE(msg.find("'hydra-no-such-user'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("scripts/setup.sh"), std::string::npos) << msg;
    fs::remove_all(dir);
}

TEST(PrivateClusterErrors, UnreachableDirectoryIsNamed)
{
    if (::geteuid() != 0) GTEST_SKIP() << "only root runs the server as another user";
    std::string dir = makeTempDir("hydra-pc-");
    std::string locked = dir + "/locked";
    ASSERT_EQ(::mkdir(locked.c_str(), 0700), 0);
    PrivateCluster c(ClusterOptions{.dataDir = locked + "/pg", .unsafeFast = true});
    auto msg = errorOf([&] { c.ensureRunning(); });
    EXPECT_NE(msg.find("cannot enter directory " + locked + " "), std::string::npos) << msg;
    EXPECT_FALSE(fs::exists(locked + "/pg/PG_VERSION"));
    fs::remove_all(dir);
}

TEST(PrivateClusterErrors, TooLongSocketPathFailsBeforeCreatingAnything)
{
    std::string dir = makeTempDir("hydra-pc-");
    std::string deep = dir + "/" + std::string(100, 'd');
    PrivateCluster c(ClusterOptions{.dataDir = deep + "/pg"});
    auto msg = errorOf([&] { c.ensureRunning(); });
    EXPECT_NE(msg.find("unix socket path"), std::string::npos) << msg;
    EXPECT_NE(msg.find(deep), std::string::npos) << msg;
    EXPECT_FALSE(fs::exists(deep));
    fs::remove_all(dir);
}

TEST(PrivateClusterErrors, BadPgBinDirIsNamed)
{
    ::setenv("HYDRA_PG_BINDIR", "/nonexistent/pg/bin", 1);
    auto msg = errorOf([] { hydra::db::findPgBinDir(); });
    ::unsetenv("HYDRA_PG_BINDIR");
    EXPECT_NE(msg.find("HYDRA_PG_BINDIR=/nonexistent/pg/bin"), std::string::npos) << msg;
    EXPECT_TRUE(fs::exists(hydra::db::findPgBinDir() + "/initdb"));
}

TEST(PrivateClusterErrors, ConninfoOfAClusterNeverCreated)
{
    PrivateCluster c(ClusterOptions{.dataDir = "/nonexistent/hydra/postgres"});
    EXPECT_FALSE(c.running());
    EXPECT_NE(errorOf([&] { (void) c.conninfo(); }).find("hydra up"), std::string::npos);
}

// Several daemons started together may all ask for the cluster at once: one initdb, one server.
TEST(PrivateClusterConcurrency, SimultaneousFirstStartsShareOneServer)
{
    TempCluster tc;
    std::vector<std::string> conninfos(3);
    std::vector<std::string> errors(3);
    {
        std::vector<std::jthread> threads;
        for (size_t i = 0; i < 3; ++i)
            threads.emplace_back([&, i] {
                try {
                    PrivateCluster c(ClusterOptions{.dataDir = tc.dir + "/pg", .unsafeFast = true});
                    c.ensureRunning();
                    conninfos[i] = c.conninfo();
                } catch (const std::exception& e) {
                    errors[i] = e.what();
                }
            });
    }
    for (auto& e : errors) EXPECT_EQ(e, "");
    EXPECT_EQ(conninfos[0], conninfos[1]);
    EXPECT_EQ(conninfos[0], conninfos[2]);
    EXPECT_TRUE(tc.cluster.running());
}

TEST(DatabaseSource, StoppedPrivateClusterSaysRunHydraUp)
{
    std::string dir = makeTempDir("hydra-pc-");
    auto source = DatabaseSource::fromEnvironment(dir, noEnv);
    auto msg = errorOf([&] { source.conninfo(/*startPrivate=*/false); });
    EXPECT_NE(msg.find(dir + "/postgres is not running"), std::string::npos) << msg;
    EXPECT_NE(msg.find("hydra up"), std::string::npos) << msg;
    EXPECT_FALSE(fs::exists(dir + "/postgres")) << "only looking must not create the cluster";
    fs::remove_all(dir);
}

TEST(DatabaseSource, StartsThePrivateClusterOnDemand)
{
    std::string dir = makeTempDir("hydra-pc-");
    auto source = DatabaseSource::fromEnvironment(dir, noEnv);
    std::string conninfo = source.conninfo(/*startPrivate=*/true);
    {
        auto c = source.connect(/*startPrivate=*/false);
        EXPECT_EQ(pqxx::nontransaction(*c).exec("SELECT current_database()")[0][0].as<std::string>(),
                  "hydra");
    }
    EXPECT_EQ(source.conninfo(/*startPrivate=*/false), conninfo);
    PrivateCluster(ClusterOptions{.dataDir = dir + "/postgres"}).stop();
    fs::remove_all(dir);
}

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

#include "harness/pg_fixture.hh"

#include "util/error.hh"
#include "util/process.hh"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sys/stat.h>
#include <unistd.h>

namespace hydra::test {

namespace {

constexpr const char* guardEnv = "HYDRA_TEST_PG_GUARD";

// Stops the cluster under `dir` and removes the dir; safe to call when already done.
void cleanUp(const std::string& dir)
{
    std::error_code ec;
    if (!std::filesystem::exists(dir, ec)) return;
    try {
        db::ClusterOptions o;
        o.dataDir = dir + "/data";
        db::PrivateCluster(o).stop();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "pg_fixture: stopping the test cluster in %s: %s\n", dir.c_str(), e.what());
    }
    std::filesystem::remove_all(dir, ec);
}

// The guard: the test binary re-run with HYDRA_TEST_PG_GUARD=<dir>. It waits until its stdin
// (a pipe from the test process) closes, which also happens when the test process crashes
// or is killed, and then cleans up, so no test run leaves a PostgreSQL server behind.
[[noreturn]] void runGuard(const char* dirEnv)
{
    std::string dir = dirEnv;
    ::unsetenv(guardEnv);
    std::signal(SIGINT, SIG_IGN);
    std::signal(SIGHUP, SIG_IGN);
    char buf[64];
    for (;;) {
        ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
        if (n == 0 || (n < 0 && errno != EINTR)) break;
    }
    cleanUp(dir);
    std::_Exit(0);
}

[[maybe_unused]] const bool inGuard = [] {
    if (const char* d = std::getenv(guardEnv)) runGuard(d);
    return false;
}();

} // namespace

/// The guard process and the pipe whose closing tells it to clean up.
struct PgCluster::Guard {
    Process proc;
};

std::string makeTempDir(std::string_view prefix)
{
    std::string tmpl = fmt::format("/tmp/{}XXXXXX", prefix);
    if (!::mkdtemp(tmpl.data())) throwSysError(fmt::format("creating a temp dir {}", tmpl));
    // PostgreSQL runs as the unprivileged user when we are root: it must be able to enter.
    if (::chmod(tmpl.c_str(), 0755) != 0) throwSysError(fmt::format("chmod {}", tmpl));
    return tmpl;
}

PgCluster::PgCluster() : dir_(makeTempDir("hydra-pg-"))
{
    ProcessOptions po;
    po.argv = {"/proc/self/exe"};
    po.setEnv[guardEnv] = dir_;
    po.pipeStdin = true;
    guard_ = std::make_unique<Guard>(Guard{Process::spawn(po)});

    db::ClusterOptions o;
    o.dataDir = dir_ + "/data";
    o.unsafeFast = true;
    try {
        cluster_ = std::make_unique<db::PrivateCluster>(o);
        cluster_->ensureRunning();
    } catch (...) {
        shutdown();
        throw;
    }
}

PgCluster& PgCluster::get()
{
    static PgCluster instance;
    return instance;
}

PgCluster::~PgCluster()
{
    shutdown();
}

void PgCluster::shutdown()
{
    cluster_.reset();
    cleanUp(dir_);
    if (guard_) {
        guard_->proc.in().close();
        if (!guard_->proc.waitUntil(std::chrono::steady_clock::now() + std::chrono::seconds(30)))
            guard_->proc.terminate();
        guard_.reset();
    }
}

std::string PgCluster::conninfo(std::string_view db) const
{
    return cluster_->conninfo(db);
}

db::PrivateCluster& PgCluster::cluster()
{
    return *cluster_;
}

std::string PgCluster::freshDatabase()
{
    static std::atomic<int> counter{0};
    std::string name = fmt::format("test_{}_{}", ::getpid(), ++counter);
    cluster_->createDatabase(name);
    return name;
}

} // namespace hydra::test

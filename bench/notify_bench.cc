// notify_bench: how many build_finished events hydra-notify's daemon handles per second, with a
// no-op plugin and with RunCommand running `true`, against starting one process per event (what
// Hydra did before hydra-notify: a program started for every finished build).
//
// N finished builds are created in a private PostgreSQL before the daemon starts, with their
// notificationPendingSince cleared. The daemon (runNotifyDaemon, in this process, hydra.conf's
// default of 2 workers) is started and waited for until it LISTENs. Then, in each of R rounds,
// one transaction sets notificationPendingSince of the round's N/R builds and sends
// build_finished for each, as the queue runner does when it finishes a build; the time runs
// from that commit until no build is pending. After each round, with the daemon idle, the
// reference starts /bin/true N/R times, one after another, with Process::spawn and wait: the
// two alternate so that both see the same load of a shared machine.
// Log level is Warn while measuring, so RunCommand's line per run does not flood the terminal.
//
// Environment: HYDRA_BENCH_NOTIFY_EVENTS (N, default 10000), HYDRA_BENCH_NOTIFY_ROUNDS (R,
// default 10). Plain main: prints one line per measurement and the ratios.

#include "bench_support.hh"
#include "db/build_results.hh"
#include "db/connect.hh"
#include "db/private_cluster.hh"
#include "db/schema.hh"
#include "notify/notify_daemon.hh"
#include "notify/plugins.hh"
#include "util/config_file.hh"
#include "util/error.hh"
#include "util/logging.hh"
#include "util/process.hh"

#include <fmt/format.h>
#include <pqxx/pqxx>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

using namespace hydra;
using namespace std::chrono_literals;
using Wall = std::chrono::steady_clock;
namespace fs = std::filesystem;

namespace {

using bench::envNumber;

/// A private PostgreSQL with the Hydra schema and N finished builds of job p:js:job-<i>.
class Database : public bench::HydraDatabase {
public:
    Database(const fs::path& dir, size_t builds) : HydraDatabase(dir)
    {
        pqxx::work t(*conn_);
        for (size_t i = 0; i < builds; ++i) finishBuild(t, i);
        // Nobody listens yet: these builds start with nothing pending, the benchmark sends the events.
        t.exec("UPDATE Builds SET notificationPendingSince = NULL");
        t.commit();
    }

    /// Marks the notification of `count` builds from the `first`-th (by id) pending and sends
    /// build_finished for each, in one commit.
    void sendBuildFinished(size_t first, size_t count)
    {
        const std::string round = "(SELECT id FROM Builds ORDER BY id OFFSET $1 LIMIT $2)";
        pqxx::work t(*conn_);
        t.exec_params("UPDATE Builds SET notificationPendingSince = extract(epoch from now())::integer "
                      "WHERE id IN " +
                          round,
                      first, count);
        t.exec_params("SELECT pg_notify('build_finished', id::text) FROM " + round + " r ORDER BY id", first,
                      count);
        t.commit();
    }

private:
    static void finishBuild(pqxx::work& t, size_t i)
    {
        auto job = fmt::format("job-{}", i);
        auto out = fmt::format("/nix/store/{:032}-{}", i, job);
        auto id = t.exec_params1("INSERT INTO Builds (finished, timestamp, jobset_id, job, nixName, drvPath, "
                                 "system, priority, globalPriority, maxsilent, timeout) VALUES (0, "
                                 "extract(epoch from now())::bigint, (SELECT id FROM Jobsets), $1, $1, $2, "
                                 "'x86_64-linux', 0, 0, 3600, 36000) RETURNING id",
                                 job, out + ".drv")[0]
                      .as<long long>();
        t.exec_params("INSERT INTO BuildOutputs (build, name, path) VALUES ($1, 'out', $2)", id, out);
        db::SucceededBuild b;
        b.id = id;
        b.startTime = 1700000000;
        b.stopTime = 1700000010;
        b.outputs = {{"out", out}};
        if (!db::markSucceededBuild(t, b)) throw Error("build {} could not be marked succeeded", id);
    }
};

/// A plugin that does nothing but count (into a counter that outlives the daemon): the daemon's
/// own cost per event.
class NoopPlugin : public notify::Plugin {
public:
    explicit NoopPlugin(std::atomic<size_t>& calls) : calls_(calls) {}
    std::string_view name() const override { return "Noop"; }
    bool wants(const std::string& channel) const override { return channel == "build_finished"; }
    void handle(const notify::Event& /*event*/, const notify::PluginContext& /*ctx*/) override { ++calls_; }

private:
    std::atomic<size_t>& calls_;
};

const std::string pendingSql = "SELECT count(*) FROM Builds WHERE notificationPendingSince IS NOT NULL";

/// Waits until the daemon LISTENs and its start-up scan is done, so its start-up is not measured.
void waitUntilListening(Database& db)
{
    auto deadline = Wall::now() + 60s;
    while (db.scalar("SELECT count(*) FROM pg_stat_activity WHERE query ILIKE 'LISTEN %'") == 0) {
        if (Wall::now() > deadline) throw Error("the notify daemon did not LISTEN within 60 s");
        std::this_thread::sleep_for(20ms);
    }
    std::this_thread::sleep_for(500ms);
}

/// Seconds to start /bin/true `n` times, one after another, each waited for.
double timeProcesses(size_t n)
{
    auto start = Wall::now();
    for (size_t i = 0; i < n; ++i) {
        auto p = Process::spawn({.argv = {"/bin/true"}});
        if (auto status = p.wait(); !exitedOk(status)) throw Error("/bin/true {}", statusToString(status));
    }
    return bench::seconds(Wall::now() - start);
}

/// Seconds the daemon took for all events, and the reference for as many processes.
struct Timing {
    double daemon = 0;
    double reference = 0;
};

/// Seconds from sending one round's build_finished events to every one handled.
double timeRound(Database& db, size_t first, size_t count)
{
    auto start = Wall::now();
    db.sendBuildFinished(first, count);
    auto deadline = start + 30min;
    while (db.scalar(pendingSql) > 0) {
        if (Wall::now() > deadline) throw Error("notifications still pending after 30 min");
        std::this_thread::sleep_for(10ms);
    }
    return bench::seconds(Wall::now() - start);
}

/// The daemon on `n` events in `rounds` rounds, each followed by the reference's share.
Timing timeDaemon(Database& db, const fs::path& dataDir, HydraConfig config, notify::PluginList plugins,
                  size_t n, size_t rounds)
{
    notify::NotifyDaemonSettings s;
    s.conninfo = db.conninfo();
    s.dataDir = dataDir;
    s.config = std::move(config);
    s.plugins = std::move(plugins);
    s.maxDbConnections = std::max(1U, s.config.notify.maxConcurrentNotifications) + 3;
    std::exception_ptr failure;
    std::jthread daemon([&](const std::stop_token& stop) {
        try {
            notify::runNotifyDaemon(s, stop);
        } catch (...) {
            failure = std::current_exception();
        }
    });
    waitUntilListening(db);
    Timing t;
    for (size_t r = 0; r < rounds && !failure; ++r) {
        size_t first = n * r / rounds, count = n * (r + 1) / rounds - first;
        t.daemon += timeRound(db, first, count);
        t.reference += timeProcesses(count);
    }
    daemon.request_stop();
    daemon.join();
    if (failure) std::rethrow_exception(failure);
    return t;
}

HydraConfig runTrueConfig()
{
    auto tree =
        parseConfigText("<runcommand>\n  job = *:*:*\n  command = true\n</runcommand>\n", "notify_bench");
    return HydraConfig::fromTree(std::move(tree), "notify_bench");
}

void report(const char* what, size_t n, double secs)
{
    fmt::print("  {:<34} {:8.2f} s  {:9.0f} events/s\n", what, secs, static_cast<double>(n) / secs);
    std::fflush(stdout);
}

void runBench(size_t n, size_t rounds)
{
    bench::TempDir dir("hydra-notify-bench");
    fs::create_directories(dir.path / "data");
    Database db(dir.path, n);
    fmt::print("notify_bench: {} build_finished events in {} rounds, {} workers\n", n, rounds,
               HydraConfig{}.notify.maxConcurrentNotifications);

    std::atomic<size_t> calls{0};
    notify::PluginList noopList;
    noopList.push_back(std::make_unique<NoopPlugin>(calls));
    auto noop = timeDaemon(db, dir.path / "data", HydraConfig{}, std::move(noopList), n, rounds);
    if (calls != n) throw Error("the no-op plugin ran {} times, not {}", calls.load(), n);
    report("daemon, no-op plugin", n, noop.daemon);
    report("reference, alternating with it", n, noop.reference);

    auto config = runTrueConfig();
    auto plugins = notify::makePlugins(config);
    auto run = timeDaemon(db, dir.path / "data", config, std::move(plugins), n, rounds);
    auto runs = db.scalar("SELECT count(*) FROM RunCommandLogs WHERE exit_code = 0");
    if (runs != static_cast<long long>(n)) throw Error("RunCommand ran `true` {} times, not {}", runs, n);
    report("daemon, RunCommand `true`", n, run.daemon);
    report("reference, alternating with it", n, run.reference);

    fmt::print(
        "  ratio of events/s to the reference (one /bin/true per event): no-op {:.1f}, RunCommand {:.2f}\n",
        noop.reference / noop.daemon, run.reference / run.daemon);
}

} // namespace

int main()
{
    std::signal(SIGPIPE, SIG_IGN);
    try {
        auto n = envNumber("HYDRA_BENCH_NOTIFY_EVENTS", 10000);
        auto rounds = envNumber("HYDRA_BENCH_NOTIFY_ROUNDS", 10);
        if (rounds > n) throw Error("HYDRA_BENCH_NOTIFY_ROUNDS={} is more than the {} events", rounds, n);
        log::setLevel(log::Level::Warn);
        runBench(n, rounds);
    } catch (const std::exception& e) {
        fmt::print(stderr, "notify_bench: {}\n", e.what());
        return 1;
    }
    return 0;
}

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
// CPU time per event is reported next to the rates, split between this process (the daemon, or
// the reference's loop), its children (the commands) and PostgreSQL's processes: on a machine
// shared with others, rates swing with their load while CPU per event says where the time went.
// Log level is Warn while measuring, so RunCommand's line per run does not flood the terminal.
// The end of a round is seen by asking every 10 ms whether any build is still pending.
//
// Environment: HYDRA_BENCH_NOTIFY_EVENTS (N, default 10000), HYDRA_BENCH_NOTIFY_ROUNDS (R,
// default 10), HYDRA_BENCH_NOTIFY_STATEMENTS=1 (load pg_stat_statements and print, after each
// daemon, PostgreSQL's statements by time per event). Plain main: prints one line per
// measurement and the ratios.

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
#include <cctype>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <dirent.h>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>
#include <sys/resource.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>
#include <utility>

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

    /// Loads pg_stat_statements (a restart), so that statements() can say where PostgreSQL's
    /// time went.
    void trackStatements()
    {
        conn_.reset();
        {
            auto c = db::connect(cluster_.conninfo());
            pqxx::nontransaction t(*c);
            t.exec("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'");
        }
        cluster_.restart();
        conn_ = db::connect(cluster_.conninfo());
        pqxx::work t(*conn_);
        t.exec("CREATE EXTENSION pg_stat_statements");
        t.commit();
        pqxx::nontransaction nt(*conn_);
        nt.exec("ALTER SYSTEM SET pg_stat_statements.track_planning = on");
        nt.exec("SELECT pg_reload_conf()");
    }

    /// Prints PostgreSQL's statements by total time, per event, then forgets them.
    void printStatements(size_t events)
    {
        pqxx::work t(*conn_);
        double n = static_cast<double>(events);
        for (auto row : t.exec("SELECT calls, total_exec_time, total_plan_time, "
                               "regexp_replace(query, '\\s+', ' ', 'g') FROM pg_stat_statements "
                               "ORDER BY total_exec_time + total_plan_time DESC LIMIT 12"))
            fmt::print("    {:7.3f} calls/event {:7.3f} ms/event exec {:6.3f} plan  {:.110}\n",
                       row[0].as<double>() / n, row[1].as<double>() / n, row[2].as<double>() / n,
                       row[3].as<std::string>());
        t.exec("SELECT pg_stat_statements_reset()");
        t.commit();
    }

    /// Whether any build is still pending. Not a count: polled every 10 ms while the daemon works,
    /// a count visited every pending row and every dead index entry the round's updates left, and
    /// took a fifth of PostgreSQL's CPU per RunCommand event away from the daemon. A prepared
    /// statement outside a transaction: planned once, with no BEGIN and ROLLBACK around it.
    bool anyPending()
    {
        conn_->prepare("notify_bench_pending",
                       "SELECT EXISTS (SELECT 1 FROM Builds WHERE notificationPendingSince IS NOT NULL)");
        pqxx::nontransaction t(*conn_);
        return t.exec_prepared1("notify_bench_pending")[0].as<bool>();
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

double secondsOf(const timeval& tv)
{
    return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
}

double rusageSeconds(int who)
{
    rusage ru{};
    ::getrusage(who, &ru);
    return secondsOf(ru.ru_utime) + secondsOf(ru.ru_stime);
}

/// The parent pid and CPU seconds of process `pid` (/proc/PID/stat); a parent of 0 when it is gone.
std::pair<pid_t, double> procStat(const std::string& pid)
{
    std::ifstream f("/proc/" + pid + "/stat");
    std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    auto close = text.rfind(')');
    if (close == std::string::npos) return {0, 0};
    std::istringstream in(text.substr(close + 2));
    std::string field;
    pid_t ppid = 0;
    double ticks = 0;
    // After the name: state, ppid, ..., utime (14th field of the line), stime (15th).
    for (int i = 3; i <= 15 && in >> field; ++i) {
        if (i == 4) ppid = std::stoi(field);
        if (i >= 14) ticks += std::stod(field);
    }
    return {ppid, ticks / static_cast<double>(::sysconf(_SC_CLK_TCK))};
}

/// CPU seconds of the postmaster's children (the backends, the daemon's connections among them).
double postgresSeconds(pid_t postmaster)
{
    double total = 0;
    std::unique_ptr<DIR, int (*)(DIR*)> proc(::opendir("/proc"), ::closedir);
    if (!proc) return 0;
    while (auto* e = ::readdir(proc.get())) {
        std::string name = e->d_name;
        if (name.empty() || !std::isdigit(static_cast<unsigned char>(name[0]))) continue;
        auto [ppid, cpu] = procStat(name);
        if (ppid == postmaster) total += cpu;
    }
    return total;
}

/// CPU seconds so far: this process, its reaped children, PostgreSQL.
struct Cpu {
    double self = 0, children = 0, postgres = 0;
    Cpu& operator+=(const Cpu& o)
    {
        self += o.self;
        children += o.children;
        postgres += o.postgres;
        return *this;
    }
    Cpu operator-(const Cpu& o) const
    {
        return {self - o.self, children - o.children, postgres - o.postgres};
    }
};

Cpu cpuNow(pid_t postmaster)
{
    return {rusageSeconds(RUSAGE_SELF), rusageSeconds(RUSAGE_CHILDREN), postgresSeconds(postmaster)};
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
    Cpu daemonCpu;
    Cpu referenceCpu;
};

/// Seconds from sending one round's build_finished events to every one handled.
double timeRound(Database& db, size_t first, size_t count)
{
    auto start = Wall::now();
    db.sendBuildFinished(first, count);
    auto deadline = start + 30min;
    while (db.anyPending()) {
        if (Wall::now() > deadline) throw Error("notifications still pending after 30 min");
        std::this_thread::sleep_for(10ms);
    }
    return bench::seconds(Wall::now() - start);
}

/// The daemon on `n` events in `rounds` rounds, each followed by the reference's share.
Timing timeDaemon(Database& db, pid_t postmaster, const fs::path& dataDir, HydraConfig config,
                  notify::PluginList plugins, size_t n, size_t rounds)
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
        auto before = cpuNow(postmaster);
        t.daemon += timeRound(db, first, count);
        auto between = cpuNow(postmaster);
        t.reference += timeProcesses(count);
        t.daemonCpu += between - before;
        t.referenceCpu += cpuNow(postmaster) - between;
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

void report(const char* what, size_t n, double secs, const Cpu& cpu)
{
    auto ms = [&](double s) { return s * 1000 / static_cast<double>(n); };
    fmt::print("  {:<34} {:8.2f} s  {:9.0f} events/s   CPU ms/event: this process {:.2f}, "
               "children {:.2f}, PostgreSQL {:.2f}\n",
               what, secs, static_cast<double>(n) / secs, ms(cpu.self), ms(cpu.children), ms(cpu.postgres));
    std::fflush(stdout);
}

pid_t postmasterOf(const fs::path& dir)
{
    std::ifstream f(dir / "postgres" / "postmaster.pid");
    pid_t pid = 0;
    if (!(f >> pid)) throw Error("cannot read {}", (dir / "postgres" / "postmaster.pid").string());
    return pid;
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
    bool statements = envNumber("HYDRA_BENCH_NOTIFY_STATEMENTS", 0) != 0;
    if (statements) db.trackStatements();
    auto postmaster = postmasterOf(dir.path);
    if (statements) db.printStatements(n);
    auto noop = timeDaemon(db, postmaster, dir.path / "data", HydraConfig{}, std::move(noopList), n, rounds);
    if (calls != n) throw Error("the no-op plugin ran {} times, not {}", calls.load(), n);
    report("daemon, no-op plugin", n, noop.daemon, noop.daemonCpu);
    report("reference, alternating with it", n, noop.reference, noop.referenceCpu);
    if (statements) db.printStatements(n);

    auto config = runTrueConfig();
    auto plugins = notify::makePlugins(config);
    auto run = timeDaemon(db, postmaster, dir.path / "data", config, std::move(plugins), n, rounds);
    auto runs = db.scalar("SELECT count(*) FROM RunCommandLogs WHERE exit_code = 0");
    if (runs != static_cast<long long>(n)) throw Error("RunCommand ran `true` {} times, not {}", runs, n);
    report("daemon, RunCommand `true`", n, run.daemon, run.daemonCpu);
    report("reference, alternating with it", n, run.reference, run.referenceCpu);
    if (statements) db.printStatements(n);

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

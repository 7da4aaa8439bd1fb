// startup_bench: hydra-queue-runner started on a large queue, with real PostgreSQL and the real
// Nix store. N one-derivation builds (distinct .drv files written by nix-instantiate, each step
// a sandboxed `sleep`) are queued; the runner has 2 local slots, so it loads far more than it
// can build. It prints:
// - idle latency: from builds_added to step_started for one build on an idle runner (p50/p95
//   of 20), against a NOTIFY's round trip through the same listener;
// - start-up: from the runner's start to its first step_started, and to every build loaded
//   (its /status's nrQueuedBuilds plus the builds finished in the database make N), with the loading rate
//   against a plain SELECT of the same rows through libpqxx;
// - memory: peak RSS (VmHWM) and RSS per queued step above an idle runner's, against the size
//   of the rows loaded;
// - loaded latency: from a step_finished to the step_started that refills the slot (p50/p95),
//   with every slot busy and the queue full.
// The goals: every build loaded within 10 s, at most 1 KiB per queued step, and the
// loaded latency within 10 ms at the 95th percentile.
//
// Environment: HYDRA_BENCH_STARTUP_BUILDS (N, default 200000), HYDRA_BENCH_STARTUP_LOADED_SECONDS
// (how long the loaded latency is sampled, default 40), HYDRA_QUEUE_RUNNER (the binary; default
// <dir of this program>/../bin/hydra-queue-runner). Plain main: prints one report.

#include "bench_support.hh"
#include "db/listener.hh"
#include "nix/sandbox_shell.hh"
#include "util/error.hh"
#include "util/process.hh"

#include <fmt/format.h>
#include <httplib.h>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include <algorithm>
#include <arpa/inet.h>
#include <chrono>
#include <csignal>
#include <deque>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <netinet/in.h>
#include <sstream>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

using namespace hydra;
using namespace std::chrono_literals;
using Wall = std::chrono::steady_clock;
namespace fs = std::filesystem;

namespace {

using bench::envNumber;

constexpr size_t slots = 2;
constexpr size_t idleSamples = 20;
constexpr size_t chunk = 50000; // derivations per nix-instantiate: bounds its memory

std::string nixConfig()
{
    return fmt::format("substituters =\nmax-jobs = {}\n", slots);
}

/// A derivation to build: its name, .drv and "out" path.
struct Target {
    std::string name, drvPath, outPath;
};

std::string shellStorePath(const fs::path& dir)
{
    auto shell = dir / "busybox";
    nix::layOutShell(shell, nix::findStaticBusybox());
    auto out = runChecked({.argv = {"nix-store", "--add", shell.string()}}, {}, 5min);
    return out.substr(0, out.find('\n'));
}

/// `count` one-derivation builds named <prefix><i>, written to the store by nix-instantiate
/// (Nix's metadata fsync off for this writing only). The prefix holds a nonce: every run has
/// derivations of its own, none built before.
std::vector<Target> instantiate(const fs::path& dir, const std::string& shell, const std::string& prefix,
                                size_t count, const std::string& script)
{
    auto file = dir / "startup.nix";
    std::ofstream(file) << fmt::format(
        "{{ prefix, from, count }}:\nlet busybox = builtins.storePath \"{}\"; in\n"
        "builtins.genList (k: let i = from + k; d = derivation {{ name = \"${{prefix}}${{toString i}}\"; "
        "system = builtins.currentSystem; builder = \"${{busybox}}/bin/sh\"; "
        "args = [ \"-c\" \"{}\" ]; }}; in {{ n = d.name; drv = d.drvPath; out = d.outPath; }}) count\n",
        shell, script);
    std::vector<Target> out;
    out.reserve(count);
    for (size_t from = 0; from < count; from += chunk) {
        auto n = std::min(chunk, count - from);
        auto expr = fmt::format("import {} {{ prefix = \"{}\"; from = {}; count = {}; }}", file.string(),
                                prefix, from, n);
        auto json = runChecked(
            {.argv = {"nix-instantiate", "--eval", "--strict", "--json", "--read-write-mode", "-E", expr},
             .setEnv = {{"NIX_CONFIG", nixConfig() + "fsync-metadata = false\n"}}},
            {}, 30min);
        for (auto& t : nlohmann::json::parse(json))
            out.push_back({t.at("n").get<std::string>(), t.at("drv").get<std::string>(),
                           t.at("out").get<std::string>()});
    }
    return out;
}

std::string arrayLiteral(const std::vector<Target>& targets, std::string Target::*field)
{
    std::string s = "{";
    for (const auto& t : targets) {
        if (s.size() > 1) s += ',';
        s += t.*field; // store paths and names: no quoting needed
    }
    return s + "}";
}

class Database : public bench::HydraDatabase {
public:
    using HydraDatabase::HydraDatabase;

    /// The builds and their outputs in one statement and one transaction, then builds_added
    /// with the lowest new id, as an evaluator sends it.
    void queue(const std::vector<Target>& targets)
    {
        pqxx::work t(*conn_);
        auto lowest =
            t.exec_params1("WITH u AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) "
                           "  WITH ORDINALITY AS u(name, drv, out, ord)), "
                           "b AS (INSERT INTO Builds (finished, timestamp, jobset_id, job, nixName, drvPath, "
                           "  system, priority, globalPriority, maxsilent, timeout) "
                           "  SELECT 0, extract(epoch from now())::bigint, (SELECT id FROM Jobsets), u.name, "
                           "  u.name, u.drv, 'x86_64-linux', 0, 0, 3600, 36000 FROM u ORDER BY u.ord "
                           "  RETURNING id, drvPath), "
                           "o AS (INSERT INTO BuildOutputs (build, name, path) "
                           "  SELECT b.id, 'out', u.out FROM b JOIN u ON u.drv = b.drvPath) "
                           "SELECT min(id) FROM b",
                           arrayLiteral(targets, &Target::name), arrayLiteral(targets, &Target::drvPath),
                           arrayLiteral(targets, &Target::outPath))[0]
                .as<long long>();
        t.exec_params("SELECT pg_notify('builds_added', $1)", std::to_string(lowest));
        t.commit();
    }

    /// The reference for loading: the runner's query of queued builds (db/queue_store.cc) and
    /// their outputs, every row through libpqxx, with the bytes of the rows.
    std::pair<double, long long> plainSelect()
    {
        auto start = Wall::now();
        pqxx::read_transaction t(*conn_);
        long long bytes = 0;
        for (auto row : t.exec("SELECT b.id, b.drvPath, b.jobset_id, j.project, j.name, b.job, b.system, "
                               "  b.globalPriority, b.priority, COALESCE(b.maxsilent, 3600), "
                               "  COALESCE(b.timeout, 36000), b.timestamp, j.schedulingShares "
                               "FROM Builds b JOIN Jobsets j ON j.id = b.jobset_id "
                               "WHERE b.finished = 0 ORDER BY b.id"))
            for (auto f : row) bytes += static_cast<long long>(f.size());
        for (auto row : t.exec("SELECT o.build, o.name, o.path FROM BuildOutputs o JOIN Builds b ON b.id = "
                               "o.build WHERE b.finished = 0"))
            for (auto f : row) bytes += static_cast<long long>(f.size());
        return {bench::seconds(Wall::now() - start), bytes};
    }
};

/// Arrival times of the runner's step notifications, and of the bench's own pings.
class Events {
public:
    explicit Events(const std::string& conninfo)
        : listener_(
              conninfo, {"step_started", "step_finished", "startup_bench_ping"},
              [this](const std::string& channel, const std::string&) {
                  auto now = Wall::now();
                  std::lock_guard l(m_);
                  if (channel == "step_started")
                      started_.push_back(now);
                  else if (channel == "step_finished")
                      finished_.push_back(now);
                  else
                      pings_.push_back(now);
              },
              [] { fmt::print(stderr, "startup_bench: notifications lost (listener reconnected)\n"); })
    {}

    std::vector<Wall::time_point> started() const { return copy(started_); }
    std::vector<Wall::time_point> finished() const { return copy(finished_); }
    std::vector<Wall::time_point> pings() const { return copy(pings_); }

private:
    std::vector<Wall::time_point> copy(const std::vector<Wall::time_point>& v) const
    {
        std::lock_guard l(m_);
        return v;
    }
    mutable std::mutex m_;
    std::vector<Wall::time_point> started_, finished_, pings_;
    db::Listener listener_; // last: stops before what its callback writes goes away
};

int freePort()
{
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0)
        throwSysError("finding a free port");
    ::close(fd);
    return ntohs(a.sin_port);
}

/// hydra-queue-runner on localhost only, its status served on a free port; SIGTERM when dropped.
class Runner {
public:
    Runner(const std::string& binary, const fs::path& dir, const std::string& conninfo)
        : port_(freePort()), proc_(binary, dir, conninfo, nixConfig(),
                                   fmt::format("queue_runner_metrics_address = 127.0.0.1:{}\n", port_))
    {}

    bool running() { return proc_.running(); }
    std::string log() const { return proc_.log(); }

    /// A field of /proc/PID/status in KiB (VmRSS, VmHWM); 0 once the process is gone.
    long long memoryKiB(const std::string& field) const
    {
        std::ifstream f(fmt::format("/proc/{}/status", proc_.pid()));
        std::string line;
        while (std::getline(f, line))
            if (line.starts_with(field + ":")) return std::stoll(line.substr(field.size() + 1));
        return 0;
    }

    /// CPU seconds (user + system) the runner has used.
    double cpuSeconds() const
    {
        std::ifstream f(fmt::format("/proc/{}/stat", proc_.pid()));
        std::string text{std::istreambuf_iterator<char>(f), {}};
        std::istringstream rest(text.substr(text.rfind(')') + 2)); // fields from the 3rd on
        std::string field;
        double ticks = 0;
        for (int i = 3; i <= 15 && rest >> field; ++i)
            if (i >= 14) ticks += std::stod(field);
        return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
    }

    /// The runner's /status document, or nullopt while it does not answer.
    std::optional<nlohmann::json> status() const
    {
        httplib::Client c("127.0.0.1", port_);
        c.set_connection_timeout(2);
        c.set_read_timeout(10);
        auto r = c.Get("/status");
        if (!r || r->status != 200) return std::nullopt;
        return nlohmann::json::parse(r->body);
    }

private:
    int port_;
    bench::QueueRunnerProcess proc_;
};

void waitFor(Runner& runner, const std::string& what, Wall::duration limit, const std::function<bool()>& done)
{
    auto deadline = Wall::now() + limit;
    while (!done()) {
        if (!runner.running())
            throw Error("hydra-queue-runner exited while waiting for {}:\n{}", what, runner.log());
        if (Wall::now() > deadline) throw Error("no {} within {} s", what, bench::seconds(limit));
        std::this_thread::sleep_for(2ms);
    }
}

double ms(Wall::duration d)
{
    return std::chrono::duration<double, std::milli>(d).count();
}

double percentile(std::vector<double> v, double p)
{
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

/// builds_added -> step_started of one build at a time on an idle runner; the runner's idle RSS.
struct IdleFigures {
    std::vector<double> latencies, pings;
    long long rssKiB = 0;
};

IdleFigures idlePhase(const std::string& binary, const fs::path& dir, Database& db, Events& events,
                      const std::vector<Target>& quick)
{
    IdleFigures f;
    Runner runner(binary, dir / "idle", db.conninfo());
    waitFor(runner, "its status endpoint", 60s, [&] { return runner.status().has_value(); });
    std::this_thread::sleep_for(1s);
    f.rssKiB = runner.memoryKiB("VmRSS");
    for (const auto& t : quick) {
        auto before = events.started().size();
        auto sent = Wall::now();
        db.queue({t});
        waitFor(runner, "step_started", 60s, [&] { return events.started().size() > before; });
        f.latencies.push_back(ms(events.started()[before] - sent));
        waitFor(runner, "the build to finish", 120s,
                [&] { return db.scalar("SELECT count(*) FROM Builds WHERE finished = 0") == 0; });
        auto pingsBefore = events.pings().size();
        sent = Wall::now();
        db.exec("NOTIFY startup_bench_ping");
        waitFor(runner, "the bench's own notification", 10s,
                [&] { return events.pings().size() > pingsBefore; });
        f.pings.push_back(ms(events.pings()[pingsBefore] - sent));
    }
    return f;
}

/// For each step_started with a step_finished before it that no earlier start took: the time
/// between them (the slot's refill), in ms.
std::vector<double> refillLatencies(const std::vector<Wall::time_point>& finished,
                                    const std::vector<Wall::time_point>& started, Wall::time_point from)
{
    std::vector<double> out;
    std::deque<Wall::time_point> free;
    size_t fi = 0;
    for (auto s : started) {
        while (fi < finished.size() && finished[fi] <= s) free.push_back(finished[fi++]);
        if (free.empty()) continue; // a slot free from the start
        if (s >= from) out.push_back(ms(s - free.front()));
        free.pop_front();
    }
    return out;
}

void run(const std::string& binary, size_t n, std::chrono::seconds loadedTime)
{
    bench::TempDir dir("hydra-startup-bench");
    bench::StoreGarbage garbage;
    // The shell is not deleted: the same content makes the same path, which others may use.
    auto shell = shellStorePath(dir.path);
    auto t0 = Wall::now();
    auto nonce = std::chrono::system_clock::now().time_since_epoch().count();
    auto targets = instantiate(dir.path, shell, fmt::format("sb{}-", nonce), n, "sleep 1; echo $name > $out");
    auto quick = instantiate(dir.path, shell, fmt::format("sbq{}-", nonce), idleSamples, "echo $name > $out");
    for (const auto* list : {&targets, &quick})
        for (const auto& t : *list) {
            garbage.add(t.drvPath);
            garbage.add(t.outPath);
        }
    fmt::print("startup_bench: {} builds of one derivation each, {} local slots; {} .drv files written in "
               "{:.1f} s\n",
               n, slots, n + idleSamples, bench::seconds(Wall::now() - t0));
    std::fflush(stdout);

    Database db(dir.path);
    Events events(db.conninfo());
    auto idle = idlePhase(binary, dir.path, db, events, quick);
    fmt::print(
        "idle: builds_added -> step_started p50 {:.1f} ms, p95 {:.1f} ms (NOTIFY round trip p50 {:.2f} "
        "ms); runner RSS {:.1f} MiB\n",
        percentile(idle.latencies, 0.5), percentile(idle.latencies, 0.95), percentile(idle.pings, 0.5),
        static_cast<double>(idle.rssKiB) / 1024);
    std::fflush(stdout);

    db.queue(targets);
    auto [selectSeconds, rowBytes] = db.plainSelect();
    auto startedBefore = events.started().size();
    auto start = Wall::now();
    Runner runner(binary, dir.path / "loaded", db.conninfo());
    waitFor(runner, "a first step", 600s, [&] { return events.started().size() > startedBefore; });
    auto firstStep = events.started()[startedBefore] - start;
    long long unfinished = 0, steps = 0;
    auto total = static_cast<long long>(n + idleSamples);
    // Builds a step finished are in nrBuildsDone; those finished without one (cached, aborted:
    // none expected, the derivations are new) only in the database, asked every 2 s only: a
    // count over the builds would take the runner's CPU.
    long long finishedBefore = db.scalar("SELECT count(*) FROM Builds WHERE finished = 1");
    size_t polls = 0;
    waitFor(runner, "every build loaded", 1800s, [&] {
        std::this_thread::sleep_for(50ms);
        auto s = runner.status();
        if (!s) return false;
        unfinished = s->value("nrUnfinishedSteps", 0LL);
        steps = std::max(steps, unfinished);
        auto queued = s->value("nrQueuedBuilds", 0LL);
        if (queued + s->value("nrBuildsDone", 0LL) + finishedBefore >= total) return true;
        return ++polls % 40 == 0 &&
               queued + db.scalar("SELECT count(*) FROM Builds WHERE finished = 1") >= total;
    });
    auto loaded = Wall::now() - start;
    auto cpu = runner.cpuSeconds();
    auto rss = runner.memoryKiB("VmRSS");
    double perStep =
        1024.0 * static_cast<double>(rss - idle.rssKiB) / static_cast<double>(std::max(1LL, steps));
    fmt::print(
        "start-up: first step_started after {:.2f} s; every build loaded after {:.2f} s ({:.0f} builds/s; "
        "a plain SELECT of the same rows: {:.2f} s, ratio {:.1f})\n",
        bench::seconds(firstStep), bench::seconds(loaded), static_cast<double>(n) / bench::seconds(loaded),
        selectSeconds, bench::seconds(loaded) / selectSeconds);
    fmt::print("start-up: the runner used {:.2f} s of CPU until then ({:.1f} µs per build)\n", cpu,
               1e6 * cpu / static_cast<double>(n));
    fmt::print(
        "memory: RSS {:.1f} MiB with {} queued steps ({:.0f} bytes per step above the idle runner; the "
        "rows loaded: {:.0f} bytes per build, ratio {:.1f})\n",
        static_cast<double>(rss) / 1024, steps, perStep,
        static_cast<double>(rowBytes) / static_cast<double>(n),
        perStep / (static_cast<double>(rowBytes) / static_cast<double>(n)));
    std::fflush(stdout);

    auto from = Wall::now();
    std::this_thread::sleep_for(loadedTime);
    if (!runner.running()) throw Error("hydra-queue-runner exited under load:\n{}", runner.log());
    auto refills = refillLatencies(events.finished(), events.started(), from);
    fmt::print(
        "loaded: step_finished -> next step_started p50 {:.1f} ms, p95 {:.1f} ms over {} refills in {} s "
        "(about {} steps queued); peak RSS {:.1f} MiB\n",
        percentile(refills, 0.5), percentile(refills, 0.95), refills.size(), loadedTime.count(), unfinished,
        static_cast<double>(runner.memoryKiB("VmHWM")) / 1024);
}

std::string runnerBinary(const char* argv0)
{
    if (const char* e = std::getenv("HYDRA_QUEUE_RUNNER"); e && *e) return e; // NOLINT(concurrency-mt-unsafe)
    auto self =
        fs::canonical(fs::path(argv0).has_parent_path() ? fs::path(argv0) : fs::path("/proc/self/exe"));
    auto bin = self.parent_path().parent_path() / "bin" / "hydra-queue-runner";
    if (!fs::exists(bin)) throw Error("no hydra-queue-runner at {}: set HYDRA_QUEUE_RUNNER", bin.string());
    return bin.string();
}

} // namespace

int main(int /*argc*/, char** argv)
{
    std::signal(SIGPIPE, SIG_IGN);
    try {
        auto binary = runnerBinary(argv[0]);
        auto n = envNumber("HYDRA_BENCH_STARTUP_BUILDS", 200000);
        auto loadedTime = std::chrono::seconds(envNumber("HYDRA_BENCH_STARTUP_LOADED_SECONDS", 40));
        fmt::print("startup_bench: goals: every build loaded within 10 s, at most 1 KiB per queued step, "
                   "loaded refill p95 within 10 ms\n");
        run(binary, n, loadedTime);
    } catch (const std::exception& e) {
        fmt::print(stderr, "startup_bench: {}\n", e.what());
        return 1;
    }
    return 0;
}

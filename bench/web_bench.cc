// web_bench: how fast hydra-server answers its heaviest read pages on a farm-sized database,
// from a second process over loopback, against the same server's cheapest answer (its embedded
// style sheet: the floor of the HTTP layer) measured in the same run.
//
// The database: 100,000 builds in 1,000 jobsets — 1,000 jobsets with 3 evaluations of 20 jobs
// each (60,000 builds, one step and one output each, 5% still queued) and one jobset "p:js"
// with two evaluations of 20,000 builds each (the second compared with the first on its page).
// hydra-server (the built program, as deployed) serves it on a free port; this process is the
// client: C concurrent keep-alive connections request one URL for D seconds each, and every
// request's latency is recorded. Printed per URL: requests per second, p50 and p99 latency, and
// the ratio of its throughput to the style sheet's. The 20,000-build evaluation is also loaded
// by a single client, the case of a person opening it.
//
// Last, live logs: a running step whose log grows by a line every 100 ms (written by this
// process, as the queue runner would), the build page loaded without followers, then again
// while F clients follow that log (`?follow=1`); printed: both p99s, their ratio, what the
// followers received, and the database's transactions per second with the followers alone.
//
// Environment: HYDRA_BENCH_WEB_FOLLOWERS (F, default 200), HYDRA_BENCH_WEB_CLIENTS (C, default 32),
// HYDRA_BENCH_WEB_SECONDS (D, default 5), HYDRA_BENCH_WEB_ONLY (only the URLs whose name contains it, e.g. to
// profile one page), HYDRA_BENCH_WEB_HOLD (wait for a line on stdin after filling, to look at the database).

#include "bench_support.hh"
#include "nix/build_log_path.hh"
#include "util/process.hh"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <fstream>
#include <httplib.h>
#include <iostream>
#include <mutex>
#include <regex>
#include <sstream>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace hydra;
using namespace std::chrono_literals;
using Wall = std::chrono::steady_clock;
namespace fs = std::filesystem;

namespace {

void fill(pqxx::connection& c)
{
    pqxx::work t(c);
    // Hydra's per-row counter trigger updates one row 100,000 times in one transaction (minutes);
    // the count is set once at the end instead.
    t.exec("ALTER TABLE Builds DISABLE TRIGGER NrBuildsFinished");
    t.exec("INSERT INTO Projects (name, displayName, owner) SELECT 'proj' || i, 'Project ' || i, 'root' "
           "FROM generate_series(1, 10) i");
    t.exec(
        "INSERT INTO Jobsets (project, name, nixExprInput, nixExprPath, emailOverride) "
        "SELECT 'proj' || (i % 10 + 1), 'js' || i, 'src', 'release.nix', '' FROM generate_series(1, 1000) i");
    t.exec("INSERT INTO JobsetEvals (jobset_id, timestamp, checkoutTime, evalTime, hasNewBuilds, hash, "
           "nrBuilds) "
           "SELECT j.id, 1700000000 + e * 1000, 1, 2, 1, md5(j.id || '-' || e), 20 "
           "FROM Jobsets j, generate_series(1, 3) e WHERE j.name <> 'js' ORDER BY e, j.id");
    // Build ids are chosen so that each evaluation's members follow from them.
    t.exec(
        "INSERT INTO Builds (id, finished, timestamp, jobset_id, job, nixName, drvPath, system, isCurrent, "
        "  startTime, stopTime, buildStatus) "
        "SELECT ev.id * 20 + k, CASE WHEN (ev.id * 20 + k) % 20 = 0 THEN 0 ELSE 1 END, ev.timestamp, "
        "  ev.jobset_id, 'job' || k, 'pkg' || k || '-1.0', "
        "  '/nix/store/' || md5((ev.id * 20 + k)::text) || '-pkg' || k || '-1.0.drv', 'x86_64-linux', 1, "
        "  ev.timestamp + 10, ev.timestamp + 70, CASE WHEN k % 7 = 0 THEN 1 ELSE 0 END "
        "FROM JobsetEvals ev, generate_series(0, 19) k");
    t.exec("UPDATE Builds SET startTime = NULL, stopTime = NULL, buildStatus = NULL WHERE finished = 0");
    t.exec("INSERT INTO JobsetEvalMembers (eval, build, isNew) SELECT id / 20, id, 1 FROM Builds");
    t.exec("INSERT INTO JobsetEvals (jobset_id, timestamp, checkoutTime, evalTime, hasNewBuilds, hash, "
           "nrBuilds) "
           "SELECT j.id, 1800000000 + e, 1, 2, 1, md5('big' || e), 20000 FROM Jobsets j, generate_series(1, "
           "2) e "
           "WHERE j.project = 'p' AND j.name = 'js'");
    t.exec(
        "INSERT INTO Builds (id, finished, timestamp, jobset_id, job, nixName, drvPath, system, isCurrent, "
        "  startTime, stopTime, buildStatus) "
        "SELECT 1000000 + ev.id * 20000 + k, 1, ev.timestamp, ev.jobset_id, 'big.job' || k, 'big' || k, "
        "  '/nix/store/' || md5('big' || ev.id || k) || '-big' || k || '.drv', 'x86_64-linux', 1, "
        "  ev.timestamp, ev.timestamp + 5, CASE WHEN (k + ev.id) % 13 = 0 THEN 1 ELSE 0 END "
        "FROM JobsetEvals ev, generate_series(0, 19999) k WHERE ev.nrBuilds = 20000");
    t.exec(
        "INSERT INTO JobsetEvalMembers (eval, build, isNew) SELECT (id - 1000000) / 20000, id, 1 FROM Builds "
        "WHERE id >= 1000000");
    t.exec("INSERT INTO BuildOutputs (build, name, path) SELECT id, 'out', substr(drvPath, 1, "
           "length(drvPath) - 4) "
           "FROM Builds");
    t.exec("INSERT INTO BuildSteps (build, stepnr, type, drvPath, busy, status, startTime, stopTime, "
           "machine, system) "
           "SELECT id, 1, 0, drvPath, 0, buildStatus, startTime, stopTime, 'builder' || (id % 50), system "
           "FROM Builds WHERE finished = 1");
    t.exec("SELECT setval('builds_id_seq', (SELECT max(id) FROM Builds))");
    t.exec("UPDATE NrBuilds SET count = (SELECT count(*) FROM Builds WHERE finished = 1) WHERE what = "
           "'finished'");
    t.exec("ALTER TABLE Builds ENABLE TRIGGER NrBuildsFinished");
    t.commit();
    pqxx::nontransaction(c).exec("VACUUM ANALYZE");
}

struct Result {
    double rps = 0, p50 = 0, p99 = 0, max = 0;
    size_t errors = 0;
};

Result load(int port, const std::string& path, bool json, unsigned clients, std::chrono::seconds duration)
{
    std::mutex m;
    std::vector<double> latencies;
    std::atomic<size_t> errors{0};
    auto end = Wall::now() + duration;
    {
        std::vector<std::jthread> threads;
        for (unsigned i = 0; i < clients; ++i)
            threads.emplace_back([&] {
                httplib::Client client("127.0.0.1", port);
                client.set_keep_alive(true);
                client.set_tcp_nodelay(true);
                client.set_read_timeout(60, 0);
                httplib::Headers headers;
                if (json) headers.emplace("Accept", "application/json");
                std::vector<double> mine;
                while (Wall::now() < end) {
                    auto start = Wall::now();
                    auto res = client.Get(path.c_str(), headers);
                    if (!res || res->status >= 400) ++errors;
                    mine.push_back(bench::seconds(Wall::now() - start) * 1000);
                }
                std::lock_guard lock(m);
                latencies.insert(latencies.end(), mine.begin(), mine.end());
            });
    }
    Result r;
    r.errors = errors;
    if (latencies.empty()) return r;
    std::sort(latencies.begin(), latencies.end());
    auto at = [&](double q) {
        return latencies[std::min(latencies.size() - 1, size_t(q * double(latencies.size())))];
    };
    r.rps = double(latencies.size()) / double(duration.count());
    r.p50 = at(0.50);
    r.p99 = at(0.99);
    r.max = latencies.back();
    return r;
}

/// A running step's log, appended to every 100 ms while it lives.
class GrowingLog {
public:
    explicit GrowingLog(fs::path path) : path_(std::move(path))
    {
        fs::create_directories(path_.parent_path());
        std::ofstream(path_) << "starting\n";
        writer_ = std::jthread([this](const std::stop_token& stop) {
            for (int i = 0; !stop.stop_requested(); ++i) {
                std::ofstream(path_, std::ios::app) << "line " << i << " of a running build\n";
                std::this_thread::sleep_for(100ms);
            }
        });
    }

private:
    fs::path path_;
    std::jthread writer_;
};

/// Clients following one log until told to stop; counts what each received.
class Followers {
public:
    Followers(int port, const std::string& path, unsigned n) : received_(n)
    {
        for (unsigned i = 0; i < n; ++i)
            threads_.emplace_back([this, port, path, i] {
                httplib::Client client("127.0.0.1", port);
                client.set_read_timeout(60, 0);
                client.Get(path.c_str(), [this, i](const char*, size_t len) {
                    received_[i] += len;
                    return !stop_;
                });
            });
    }
    ~Followers()
    {
        stop_ = true;
        threads_.clear();
    }
    Followers(const Followers&) = delete;
    Followers& operator=(const Followers&) = delete;
    /// Bytes received by the follower that received the least, and how many received any.
    std::pair<size_t, size_t> least() const
    {
        size_t least = SIZE_MAX, some = 0;
        for (const auto& r : received_) {
            least = std::min<size_t>(least, r);
            if (r > 0) ++some;
        }
        return {least, some};
    }

private:
    std::vector<std::atomic<size_t>> received_;
    std::atomic<bool> stop_{false};
    std::vector<std::jthread> threads_;
};

/// CPU seconds (user and system) that process `pid` has used.
double cpuSeconds(pid_t pid)
{
    std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
    std::string text{std::istreambuf_iterator<char>(f), {}};
    std::istringstream rest(text.substr(text.rfind(')') + 2));
    std::string field;
    double utime = 0, stime = 0;
    for (int i = 3; i <= 15 && rest >> field; ++i) {
        if (i == 14) utime = std::stod(field);
        if (i == 15) stime = std::stod(field);
    }
    return (utime + stime) / double(::sysconf(_SC_CLK_TCK));
}

double transactionsPerSecond(bench::HydraDatabase& db, std::chrono::seconds over)
{
    const char* q = "SELECT sum(xact_commit + xact_rollback) FROM pg_stat_database";
    auto before = db.scalar(q);
    std::this_thread::sleep_for(over);
    // The statistics collector publishes with a delay of up to half a second.
    std::this_thread::sleep_for(600ms);
    return double(db.scalar(q) - before - 1) / double(over.count());
}

void liveLogs(bench::HydraDatabase& db, const fs::path& dir, int port, pid_t serverPid, unsigned clients,
              std::chrono::seconds duration)
{
    auto followers = unsigned(bench::envNumber("HYDRA_BENCH_WEB_FOLLOWERS", 200));
    auto build = db.scalar("SELECT min(id) FROM Builds WHERE finished = 0");
    // The filled builds' paths have hex hashes; a log file needs a real store path's name.
    db.exec(fmt::format("UPDATE Builds SET drvPath = '/nix/store/' || translate(md5('live'), 'e', 'g') || "
                        "'-live.drv' WHERE id = {}",
                        build));
    auto drv = db.text(fmt::format("SELECT drvPath FROM Builds WHERE id = {}", build));
    db.exec(
        fmt::format("INSERT INTO BuildSteps (build, stepnr, type, drvPath, busy, startTime, machine, system) "
                    "VALUES ({}, 1, 0, '{}', 20, 1700000000, 'builder1', 'x86_64-linux')",
                    build, drv));
    GrowingLog log(nix::buildLogPath(dir / "build-logs", drv));
    auto page = fmt::format("/build/{}", build);
    auto follow = fmt::format("/build/{}/step/1/log?follow=1", build);
    // Rounds alternate without and with followers, so that both see the same load of a shared
    // machine; the medians are compared.
    std::vector<double> alone, along;
    size_t least = SIZE_MAX, some = SIZE_MAX;
    for (int round = 0; round < 5; ++round) {
        alone.push_back(load(port, page, false, clients, duration).p99);
        Followers f(port, follow, followers);
        std::this_thread::sleep_for(1s); // every follower connected and reading
        along.push_back(load(port, page, false, clients, duration).p99);
        auto [l, s] = f.least();
        least = std::min(least, l);
        some = std::min(some, s);
    }
    auto idleWithout = transactionsPerSecond(db, 3s);
    double idleWith = 0;
    {
        Followers f(port, follow, followers);
        std::this_thread::sleep_for(1s);
        auto cpu = cpuSeconds(serverPid);
        auto self = cpuSeconds(::getpid());
        idleWith = transactionsPerSecond(db, 3s);
        fmt::print("live logs: {} followers alone cost the server {:.1f} % of a core and their clients (this "
                   "process) {:.1f} %\n",
                   followers, (cpuSeconds(serverPid) - cpu) / 3.6 * 100,
                   (cpuSeconds(::getpid()) - self) / 3.6 * 100);
    }
    auto median = [](std::vector<double> v) {
        std::sort(v.begin(), v.end());
        return v[v.size() / 2];
    };
    fmt::print(
        "live logs: build page p99 with {} clients (median of 5 rounds): {:.2f} ms alone, {:.2f} ms with {} "
        "followers of a growing log (ratio {:.2f}; rounds alone {:.1f}, with {:.1f})\n",
        clients, median(alone), median(along), followers, median(along) / median(alone),
        fmt::join(alone, "/"), fmt::join(along, "/"));
    fmt::print(
        "live logs: every follower received the log: {} ({} of {} in the worst round, the least {} bytes); "
        "database transactions/s with only the followers: {:.1f} (without them: {:.1f})\n",
        some == followers ? "yes" : "NO", some, followers, least, idleWith, idleWithout);
}

} // namespace

int main()
try {
    auto clients = unsigned(bench::envNumber("HYDRA_BENCH_WEB_CLIENTS", 32));
    auto duration = std::chrono::seconds(bench::envNumber("HYDRA_BENCH_WEB_SECONDS", 5));
    bench::TempDir dir("hydra-web-bench");
    bench::HydraDatabase db(dir.path);
    auto filling = Wall::now();
    fill(db.conn());
    fmt::print("database: {} builds, {} jobsets, {} evaluations (filled in {:.1f} s)\n",
               db.scalar("SELECT count(*) FROM Builds"), db.scalar("SELECT count(*) FROM Jobsets"),
               db.scalar("SELECT count(*) FROM JobsetEvals"), bench::seconds(Wall::now() - filling));
    if (std::getenv("HYDRA_BENCH_WEB_HOLD")) { // NOLINT(concurrency-mt-unsafe): no threads yet
        fmt::print("database kept for inspection until a line is read: psql '{}'\n", db.conninfo());
        std::string line;
        std::getline(std::cin, line);
    }
    auto bigEval = db.scalar("SELECT max(id) FROM JobsetEvals");
    auto someBuild = db.scalar(
        "SELECT id FROM Builds WHERE id < 1000000 AND finished = 1 ORDER BY id LIMIT 1 OFFSET 30000");
    auto someEval = db.scalar("SELECT id FROM JobsetEvals ORDER BY id LIMIT 1 OFFSET 1500");
    bench::Server server(dir.path, db.conninfo());

    struct Page {
        std::string name, path;
        bool json;
    };
    std::vector<Page> pages = {
        {"jobset", "/jobset/proj5/js504", false},
        {"jobset JSON", "/jobset/proj5/js504", true},
        {"jobset evals JSON", "/jobset/proj5/js504/evals", true},
        {"evaluation (20 builds)", fmt::format("/eval/{}", someEval), false},
        {"evaluation JSON", fmt::format("/eval/{}", someEval), true},
        {"build", fmt::format("/build/{}", someBuild), false},
        {"build JSON", fmt::format("/build/{}", someBuild), true},
        {"job", "/job/proj5/js504/job3", false},
        {"job latest", "/job/proj5/js504/job3/latest", false},
        {"queue", "/queue", false},
        {"queue JSON", "/queue", true},
        {"project", "/project/proj5", false},
    };
    auto floor = load(server.port, "/static/style.css", false, clients, duration);
    fmt::print("{} concurrent clients, {} s per URL\n", clients, duration.count());
    fmt::print("{:<34} {:>9} {:>9} {:>9} {:>8} {:>7}\n", "URL", "req/s", "p50 ms", "p99 ms", "vs floor",
               "errors");
    auto row = [&](const std::string& name, const Result& r) {
        fmt::print("{:<34} {:>9.0f} {:>9.2f} {:>9.2f} {:>8.3f} {:>7}\n", name, r.rps, r.p50, r.p99,
                   floor.rps > 0 ? r.rps / floor.rps : 0.0, r.errors);
    };
    row("style sheet (reference)", floor);
    double worstP99 = 0;
    const char* only = std::getenv("HYDRA_BENCH_WEB_ONLY"); // NOLINT(concurrency-mt-unsafe): no threads yet
    for (const auto& p : pages) {
        if (only && p.name.find(only) == std::string::npos) continue;
        auto r = load(server.port, p.path, p.json, clients, duration);
        row(p.name, r);
        worstP99 = std::max(worstP99, r.p99);
    }
    if (only) {
        if (std::string("live logs").find(only) != std::string::npos)
            liveLogs(db, dir.path, server.port, server.process->pid(), clients, duration);
        return 0;
    }
    auto big = fmt::format("/eval/{}", bigEval);
    auto one = load(server.port, big, false, 1, duration);
    auto oneJson = load(server.port, big, true, 1, duration);
    auto builds = load(server.port, big + "/builds", true, 1, duration);
    row("eval of 20,000 (1 client)", one);
    row("eval of 20,000 JSON (1 client)", oneJson);
    row("eval of 20,000 /builds JSON (1 c.)", builds);
    fmt::print("goal: every page p99 < 50 ms with {} clients: worst p99 {:.1f} ms ({})\n", clients, worstP99,
               worstP99 < 50 ? "met" : "NOT met");
    bench::summary("web_bench", fmt::format("worst page p99, {} clients", clients),
                   fmt::format("{:.1f} ms", worstP99), "goal 50 ms", fmt::format("{:.2f}", worstP99 / 50));
    auto bigWorst = std::max(one.max, oneJson.max);
    fmt::print("goal: the 20,000-build evaluation under 1 s: slowest load {:.0f} ms ({})\n", bigWorst,
               bigWorst < 1000 ? "met" : "NOT met");
    liveLogs(db, dir.path, server.port, server.process->pid(), clients, duration);
    return 0;
} catch (const std::exception& e) {
    fmt::print(stderr, "web_bench: {}\n", e.what());
    return 1;
}

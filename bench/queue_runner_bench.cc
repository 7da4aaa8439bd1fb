// queue_runner_bench: the same layered DAG of trivial derivations built by `nix-build -jJ` and by
// hydra-queue-runner on localhost with J slots, each from fresh derivations (a new nonce per
// run), and the ratio of their wall times. The goal is a ratio of at most 1.15.
//
// Environment: HYDRA_BENCH_DRVS (derivations; default: 1000, then 200), HYDRA_BENCH_JOBS (J,
// default 2), HYDRA_BENCH_RUNS (repetitions, default 1), HYDRA_QUEUE_RUNNER (the binary; default
// <dir of this program>/../bin/hydra-queue-runner). Plain main: prints one line per run.

#include "bench_support.hh"
#include "db/connect.hh"
#include "db/private_cluster.hh"
#include "db/schema.hh"
#include "nix/sandbox_shell.hh"
#include "util/error.hh"
#include "util/process.hh"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

using namespace hydra;
using namespace std::chrono_literals;
using Wall = std::chrono::steady_clock;
namespace fs = std::filesystem;

namespace {

using bench::envNumber;

constexpr size_t layerCount = 10;

std::string nixConfig(size_t jobs)
{
    return fmt::format("substituters =\nmax-jobs = {}\n", jobs);
}

std::string randomNonce()
{
    std::random_device rd;
    return fmt::format("{:08x}{:08x}", rd(), rd());
}

/// The layered DAG: node i of layer l depends on nodes i, i+1 (and i+2 for odd i) of layer l-1.
struct Dag {
    size_t width;
    std::vector<std::vector<size_t>> deps; // node index -> dependency indices
    std::vector<size_t> sinks;             // nodes nothing depends on: what gets built

    explicit Dag(size_t n) : width((n + layerCount - 1) / layerCount), deps(n)
    {
        std::vector<bool> needed(n, false);
        for (size_t i = width; i < n; ++i) {
            size_t layerStart = (i / width - 1) * width, pos = i % width;
            for (size_t k = 0; k < (pos % 2 ? 3U : 2U); ++k) {
                size_t d = layerStart + (pos + k) % width;
                deps[i].push_back(d);
                needed[d] = true;
            }
        }
        for (size_t i = 0; i < n; ++i)
            if (!needed[i]) sinks.push_back(i);
    }
};

/// The shell the derivations build with in Nix's sandbox (nix/sandbox_shell.hh), laid out in
/// `dir` and added to the store: its store path.
std::string shellStorePath(const fs::path& dir)
{
    auto shell = dir / "busybox";
    nix::layOutShell(shell, nix::findStaticBusybox());
    auto out = runChecked({.argv = {"nix-store", "--add", shell.string()}}, {}, 5min);
    return out.substr(0, out.find('\n'));
}

/// The DAG as a Nix expression: `nodes` (one derivation each) and `sinks` (a list).
std::string dagExpression(const Dag& dag, const std::string& nonce, const std::string& shell)
{
    std::string e =
        fmt::format("let nonce = \"{}\";\n  busybox = builtins.storePath \"{}\";\n"
                    "  mk = name: deps: derivation {{ inherit name nonce "
                    "deps; system = builtins.currentSystem; builder = \"${{busybox}}/bin/sh\"; args = "
                    "[ \"-c\" \"echo $nonce $name > $out; echo $deps >> $out\" ]; }};\n"
                    "in rec {{\n",
                    nonce, shell);
    for (size_t i = 0; i < dag.deps.size(); ++i) {
        std::string deps;
        for (auto d : dag.deps[i]) deps += fmt::format(" n{}", d);
        e += fmt::format("  n{} = mk \"n{}\" [{} ];\n", i, i, deps);
    }
    e += "  sinks = [";
    for (auto s : dag.sinks) e += fmt::format(" n{}", s);
    return e + " ];\n}\n";
}

/// A derivation to build: its .drv and its "out" path.
struct Target {
    std::string name, drvPath, outPath;
};

/// Writes the DAG with a fresh nonce and instantiates it; returns the sinks' derivations.
std::vector<Target> instantiate(const Dag& dag, const fs::path& dir, size_t jobs)
{
    auto file = dir / fmt::format("dag-{}.nix", randomNonce());
    std::ofstream(file) << dagExpression(dag, randomNonce(), shellStorePath(dir));
    auto query = fmt::format("map (d: {{ n = d.name; drv = d.drvPath; out = d.outPath; }}) (import {}).sinks",
                             file.string());
    auto json = runChecked(
        {.argv = {"nix-instantiate", "--eval", "--strict", "--json", "--read-write-mode", "-E", query},
         .setEnv = {{"NIX_CONFIG", nixConfig(jobs)}}},
        {}, 10min);
    std::vector<Target> out;
    for (auto& t : nlohmann::json::parse(json))
        out.push_back(
            {t.at("n").get<std::string>(), t.at("drv").get<std::string>(), t.at("out").get<std::string>()});
    return out;
}

/// Wall time of `nix-build -jJ` of every sink (evaluation excluded, as for the queue runner).
double timeNixBuild(const std::vector<Target>& targets, size_t jobs)
{
    std::vector<std::string> argv = {"nix-build", "-j", std::to_string(jobs), "--no-out-link"};
    for (auto& t : targets) argv.push_back(t.drvPath);
    auto start = Wall::now();
    auto r = run({.argv = argv, .setEnv = {{"NIX_CONFIG", nixConfig(jobs)}}}, {}, 30min);
    auto elapsed = Wall::now() - start;
    if (!exitedOk(r.status)) throw Error("nix-build {}: {}", statusToString(r.status), r.err);
    return bench::seconds(elapsed);
}

} // namespace

namespace {

/// A private PostgreSQL with the Hydra schema, stopped when dropped.
class Database : public bench::HydraDatabase {
public:
    using HydraDatabase::HydraDatabase;

    /// One build per target in a single transaction, then builds_added as an evaluator sends it.
    void queue(const std::vector<Target>& targets)
    {
        pqxx::work t(*conn_);
        long long lowest = 0;
        for (auto& tg : targets) {
            auto id =
                t.exec_params1("INSERT INTO Builds (finished, timestamp, jobset_id, job, nixName, drvPath, "
                               "system, priority, globalPriority, maxsilent, timeout) VALUES (0, "
                               "extract(epoch from now())::bigint, (SELECT id FROM Jobsets), $1, $1, $2, "
                               "'x86_64-linux', 0, 0, 3600, 36000) RETURNING id",
                               tg.name, tg.drvPath)[0]
                    .as<long long>();
            t.exec_params("INSERT INTO BuildOutputs (build, name, path) VALUES ($1, 'out', $2)", id,
                          tg.outPath);
            if (lowest == 0) lowest = id;
        }
        t.exec_params("SELECT pg_notify('builds_added', $1)", std::to_string(lowest));
        t.commit();
    }
};

/// Waits until the runner LISTENs (it is idle and ready), so its start-up is not measured.
void waitUntilListening(Database& db, bench::QueueRunnerProcess& runner)
{
    auto deadline = Wall::now() + 60s;
    while (db.scalar("SELECT count(*) FROM pg_stat_activity WHERE query ILIKE 'LISTEN %'") == 0) {
        if (!runner.running()) throw Error("hydra-queue-runner exited at start-up:\n{}", runner.log());
        if (Wall::now() > deadline)
            throw Error("hydra-queue-runner did not LISTEN within 60 s:\n{}", runner.log());
        std::this_thread::sleep_for(20ms);
    }
    std::this_thread::sleep_for(500ms); // let its initial queue scan finish
}

/// Wall time from queueing the builds to every build finished; every build must succeed.
double timeQueueRunner(const std::string& binary, const std::vector<Target>& targets, const fs::path& dir,
                       size_t jobs)
{
    Database db(dir);
    bench::QueueRunnerProcess runner(binary, dir, db.conninfo(), nixConfig(jobs));
    waitUntilListening(db, runner);
    auto start = Wall::now();
    db.queue(targets);
    auto deadline = start + 30min;
    while (db.scalar("SELECT count(*) FROM Builds WHERE finished = 0") > 0) {
        if (!runner.running()) throw Error("hydra-queue-runner exited mid-run:\n{}", runner.log());
        if (Wall::now() > deadline) throw Error("builds not finished after 30 min:\n{}", runner.log());
        std::this_thread::sleep_for(10ms);
    }
    auto elapsed = Wall::now() - start;
    auto failed = db.scalar("SELECT count(*) FROM Builds WHERE buildStatus != 0");
    if (failed > 0) throw Error("{} builds failed; runner log:\n{}", failed, runner.log());
    return bench::seconds(elapsed);
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

void benchOnce(const std::string& binary, size_t n, size_t jobs)
{
    bench::TempDir dir("hydra-qr-bench");
    Dag dag(n);
    auto nixTime = timeNixBuild(instantiate(dag, dir.path, jobs), jobs);
    auto runnerTime = timeQueueRunner(binary, instantiate(dag, dir.path, jobs), dir.path, jobs);
    // Slot time per derivation: what one step costs each side, whatever the DAG's width.
    auto perStep = [&](double t) { return 1000 * t * static_cast<double>(jobs) / static_cast<double>(n); };
    fmt::print("{:>6} drvs ({:>3} builds)  -j{}  nix-build {:7.2f} s  queue-runner {:7.2f} s  ratio {:.2f}  "
               "(slot ms per drv: {:.1f} vs {:.1f})\n",
               n, dag.sinks.size(), jobs, nixTime, runnerTime, runnerTime / nixTime, perStep(nixTime),
               perStep(runnerTime));
    bench::summary("queue_runner_bench", fmt::format("{} derivations, -j{}", n, jobs),
                   fmt::format("{:.2f} s", runnerTime), fmt::format("{:.2f} s nix-build", nixTime),
                   fmt::format("{:.2f}× the time", runnerTime / nixTime));
    std::fflush(stdout);
}

} // namespace

int main(int /*argc*/, char** argv)
{
    std::signal(SIGPIPE, SIG_IGN);
    try {
        auto binary = runnerBinary(argv[0]);
        auto jobs = envNumber("HYDRA_BENCH_JOBS", 2);
        auto runs = envNumber("HYDRA_BENCH_RUNS", 1);
        std::vector<size_t> sizes = {1000, 200};
        if (auto n = envNumber("HYDRA_BENCH_DRVS", 0); n > 0) sizes = {n};
        fmt::print("queue_runner_bench: {} layers, fresh derivations per run; goal: ratio <= 1.15\n",
                   layerCount);
        for (size_t r = 0; r < runs; ++r)
            for (auto n : sizes) benchOnce(binary, n, jobs);
    } catch (const std::exception& e) {
        fmt::print(stderr, "queue_runner_bench: {}\n", e.what());
        return 1;
    }
    return 0;
}

// evaluator_bench: evaluateJobs with 1 and W workers against one `nix-instantiate` and one
// `nix-env -qaP --drv-path` of the same jobset, each run with a fresh nonce so that none finds
// another's .drv files already written. Two jobsets: N trivial jobs sharing a few hundred
// dependencies (writing .drv files dominates), and a generated package set shaped like nixpkgs
// (fixpoint, overlays, callPackage, a stdenv bootstrap chain; evaluation dominates). Prints
// wall time, jobs/s, the largest process's peak memory and CPU time of each, and the ratios.
//
// Environment: HYDRA_BENCH_EVAL_SHAPE (trivial, nixpkgs or both, the default),
// HYDRA_BENCH_EVAL_JOBS (trivial jobs, default 20000), HYDRA_BENCH_EVAL_SHARED (their shared
// dependencies, default 300), HYDRA_BENCH_EVAL_PACKAGES (nixpkgs-shaped packages, default 5000),
// HYDRA_BENCH_EVAL_WORK (mkDerivation work per package, default 200), HYDRA_BENCH_EVAL_WORKERS
// (W, default 2), HYDRA_BENCH_EVAL_MAX_MEMORY (evaluator_max_memory_size in MiB, default 4096),
// HYDRA_BENCH_EVAL_ROUNDS (each run repeated, the fastest kept; default 1).
// Plain main.

#include "bench_support.hh"
#include "evaluator/eval_workers.hh"
#include "evaluator/worker_batch.hh"
#include "nixpkgs_jobset.hh"
#include "util/error.hh"
#include "util/logging.hh"
#include "util/process.hh"

#include <fmt/format.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <new>
#include <random>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <thread>

using namespace hydra;
using Wall = std::chrono::steady_clock;
namespace fs = std::filesystem;

namespace {

using bench::envNumber;

std::string loadAverage()
{
    std::ifstream f("/proc/loadavg");
    std::string one, five, fifteen;
    f >> one >> five >> fifteen;
    return one + " " + five + " " + fifteen;
}

std::string randomNonce()
{
    std::random_device rd;
    return fmt::format("{:08x}{:08x}", rd(), rd());
}

/// The jobset: a function of the nonce, one line per job as a hand-written jobset has.
void writeJobset(const fs::path& file, size_t jobs, size_t shared)
{
    std::ofstream f(file);
    f << "{ nonce }:\nlet\n  system = builtins.currentSystem;\n"
         "  mk = name: deps: derivation { inherit name system nonce deps; builder = \"/bin/sh\";\n"
         "    args = [ \"-c\" \"echo $nonce > $out\" ]; };\n"
      << fmt::format("  shared = builtins.genList (i: mk \"shared-${{toString i}}\" [ ]) {};\n", shared)
      << "  s = builtins.elemAt shared;\nin {\n";
    for (size_t i = 0; i < jobs; ++i)
        f << fmt::format("  job{} = mk \"job-{}\" [ (s {}) (s {}) ];\n", i, i, i % shared,
                         (i * 7 + 3) % shared);
    f << "}\n";
}

/// One run: wall time, the largest process's peak resident memory, the CPU time of all its
/// processes, and the jobs it found.
struct Figures {
    double seconds = 0;
    double peakMiB = 0;
    double cpuSeconds = 0;
    size_t jobs = 0;
};

double maxRssMiB(const rusage& ru)
{
    return static_cast<double>(ru.ru_maxrss) / 1024.0; // ru_maxrss is in KiB
}

double cpuSeconds(const rusage& ru)
{
    auto s = [](const timeval& t) {
        return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
    };
    return s(ru.ru_utime) + s(ru.ru_stime);
}

/// What a forked run hands back to the benchmark: its figures, or why it failed.
struct SharedFigures {
    Figures figures;
    char failure[512] = {};
};

/// Runs `run` (which fills in seconds and jobs, or throws) in a child process of its own, so
/// that RUSAGE_CHILDREN covers the Nix processes it starts and nothing else: ru_maxrss is then
/// the largest one's peak, as evaluator_max_memory_size sees it.
template <typename Run> Figures inChild(const Run& run)
{
    void* mem =
        ::mmap(nullptr, sizeof(SharedFigures), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) throwSysError("mmap");
    auto* shared = new (mem) SharedFigures{};
    pid_t pid = ::fork();
    if (pid < 0) throwSysError("fork");
    if (pid == 0) {
        try {
            shared->figures = run();
            rusage ru{};
            ::getrusage(RUSAGE_CHILDREN, &ru);
            shared->figures.peakMiB = maxRssMiB(ru);
            shared->figures.cpuSeconds = cpuSeconds(ru);
        } catch (const std::exception& e) {
            fmt::format_to_n(shared->failure, sizeof shared->failure - 1, "{}", e.what());
        }
        ::_exit(0);
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) throwSysError("waitpid");
    SharedFigures result = *shared;
    ::munmap(mem, sizeof(SharedFigures));
    if (result.failure[0] != 0) throw Error("{}", result.failure);
    return result.figures;
}

evaluator::JobSource jobSource(const fs::path& file)
{
    evaluator::JobSource src;
    src.nixFile = file;
    src.args = {{"nonce", evaluator::NixArg::Kind::String, randomNonce()}};
    src.searchPath = {{"src", file.parent_path().string()}}; // restricted evaluation reads only this
    return src;
}

Figures timeEvaluator(const fs::path& file, unsigned workers, uint64_t maxMemoryMiB)
{
    return inChild([&] {
        std::stop_source stop;
        auto start = Wall::now();
        auto r = evaluator::evaluateJobs(jobSource(file), {.workers = workers, .maxMemoryMiB = maxMemoryMiB},
                                         stop.get_token());
        Figures f{bench::seconds(Wall::now() - start), 0, 0, r.jobs.size()};
        if (!r.errors.empty())
            throw Error("evaluateJobs found {} errors, the first {}: {}", r.errors.size(), r.errors[0].job,
                        r.errors[0].message);
        return f;
    });
}

/// The listing that precedes the workers, alone: the part of an evaluation no worker shares.
Figures timeListing(const fs::path& file)
{
    return inChild([&] {
        std::stop_source stop;
        auto start = Wall::now();
        auto o = evaluator::runListing(jobSource(file), {}, 4, stop.get_token());
        if (o.end != evaluator::BatchOutcome::End::Complete) throw Error("listing: {}", o.error);
        return Figures{bench::seconds(Wall::now() - start), 0, 0, o.results.size() - 1};
    });
}

/// A Nix command on the jobset with a fresh nonce; its jobs are its output lines naming a .drv.
Figures timeNixCommand(std::vector<std::string> argv, const fs::path& output)
{
    argv.insert(argv.end(), {"--argstr", "nonce", randomNonce()});
    fs::remove(output);
    auto start = Wall::now();
    Process p = Process::spawn({.argv = argv, .outputFile = output.string()});
    pid_t pid = p.release();
    int status = 0;
    rusage ru{};
    while (::wait4(pid, &status, 0, &ru) < 0)
        if (errno != EINTR) throwSysError("wait4");
    Figures f{bench::seconds(Wall::now() - start), maxRssMiB(ru), cpuSeconds(ru), 0};
    std::ifstream out(output);
    std::string text{std::istreambuf_iterator<char>(out), {}};
    if (!exitedOk(status)) throw Error("{} {}: {}", argv[0], statusToString(status), text.substr(0, 2000));
    for (size_t pos = 0; (pos = text.find(".drv\n", pos)) != std::string::npos; ++pos) ++f.jobs;
    return f;
}

void printRow(const std::string& what, const Figures& f)
{
    fmt::print("  {:<28} {:8.2f} s {:8.0f} jobs/s  peak {:7.1f} MiB  cpu {:8.2f} s  jobs {}\n", what,
               f.seconds, static_cast<double>(f.jobs) / f.seconds, f.peakMiB, f.cpuSeconds, f.jobs);
}

/// Every measurement of one jobset, in the same run, and the ratios.
void compare(const std::string& title, const fs::path& file, size_t jobs, unsigned workers,
             uint64_t maxMemoryMiB, size_t rounds)
{
    fmt::print("{} ({} jobs, best of {} rounds)\n", title, jobs, rounds);
    std::fflush(stdout);
    // On a machine shared with other work, the best of a few rounds is the least disturbed.
    Figures one, many, inst, env, listing;
    auto best = [](Figures& kept, const Figures& f) {
        if (kept.seconds == 0 || f.seconds < kept.seconds) kept = f;
    };
    for (size_t round = 0; round < rounds; ++round) {
        best(one, timeEvaluator(file, 1, maxMemoryMiB));
        best(many, timeEvaluator(file, workers, maxMemoryMiB));
        best(inst,
             timeNixCommand({"nix-instantiate", file.string()}, file.parent_path() / "instantiate.out"));
        best(env, timeNixCommand({"nix-env", "-f", file.string(), "-qaP", "--drv-path"},
                                 file.parent_path() / "nix-env.out"));
        best(listing, timeListing(file));
    }
    for (const auto* f : {&one, &many})
        if (f->jobs != jobs) throw Error("evaluateJobs found {} jobs, not {}", f->jobs, jobs);
    printRow("evaluateJobs, 1 worker", one);
    printRow(fmt::format("evaluateJobs, {} workers", workers), many);
    printRow("nix-instantiate", inst);
    printRow("nix-env -qaP --drv-path", env);
    fmt::print("  speed-up of {} workers over nix-instantiate {:.2f}x, over nix-env {:.2f}x, over 1 worker "
               "{:.2f}x; 1 worker over nix-instantiate {:.2f}x\n",
               workers, inst.seconds / many.seconds, env.seconds / many.seconds, one.seconds / many.seconds,
               inst.seconds / one.seconds);
    // Where the cores are not shared with other work, the time is CPU time: the listing, then
    // the workers' CPU time shared by the cores. A model, for a machine too busy to measure it.
    unsigned cores = std::max(1u, std::min(workers, std::thread::hardware_concurrency()));
    double cpuBound = listing.cpuSeconds + (many.cpuSeconds - listing.cpuSeconds) / cores;
    fmt::print(
        "  CPU: listing {:.2f} s; {} workers {:.2f}x the CPU of 1 and {:.2f}x that of nix-instantiate; "
        "CPU-bound on {} idle cores: {:.2f} s, {:.2f}x faster than nix-instantiate's CPU time\n",
        listing.cpuSeconds, workers, many.cpuSeconds / one.cpuSeconds, many.cpuSeconds / inst.cpuSeconds,
        cores, cpuBound, inst.cpuSeconds / cpuBound);
    fmt::print("  largest worker {:.1f} MiB of evaluator_max_memory_size {} MiB ({:.2f}x nix-instantiate's "
               "peak)\n",
               many.peakMiB, maxMemoryMiB, many.peakMiB / inst.peakMiB);
    std::fflush(stdout);
}

} // namespace

int main()
{
    std::signal(SIGPIPE, SIG_IGN);
    try {
        if (std::getenv("HYDRA_BENCH_VERBOSE")) log::setLevel(log::Level::Debug);
        if (!std::getenv("NIX_CONFIG")) ::setenv("NIX_CONFIG", "substituters =", 1);
        const char* shapeEnv = std::getenv("HYDRA_BENCH_EVAL_SHAPE");
        std::string shape = shapeEnv ? shapeEnv : "both";
        if (shape != "trivial" && shape != "nixpkgs" && shape != "both")
            throw Error("HYDRA_BENCH_EVAL_SHAPE is '{}', not trivial, nixpkgs or both", shape);
        auto workers = static_cast<unsigned>(envNumber("HYDRA_BENCH_EVAL_WORKERS", 2));
        auto maxMemory = static_cast<uint64_t>(envNumber("HYDRA_BENCH_EVAL_MAX_MEMORY", 4096));
        size_t rounds = std::max<size_t>(1, envNumber("HYDRA_BENCH_EVAL_ROUNDS", 1));
        fmt::print("{} cores; load average {}\n", std::thread::hardware_concurrency(), loadAverage());
        if (shape != "nixpkgs") {
            size_t jobs = envNumber("HYDRA_BENCH_EVAL_JOBS", 20000);
            size_t shared = envNumber("HYDRA_BENCH_EVAL_SHARED", 300);
            bench::TempDir dir("hydra-eval-bench");
            writeJobset(dir.path / "release.nix", jobs, shared);
            compare(fmt::format("trivial jobs sharing {} dependencies", shared), dir.path / "release.nix",
                    jobs, workers, maxMemory, rounds);
        }
        if (shape != "trivial") {
            size_t packages = envNumber("HYDRA_BENCH_EVAL_PACKAGES", 5000);
            size_t work = envNumber("HYDRA_BENCH_EVAL_WORK", 200);
            bench::TempDir dir("hydra-eval-bench");
            size_t jobs = bench::NixpkgsJobset(dir.path, packages, work).write();
            compare(fmt::format("nixpkgs-shaped package set of {} packages, work {}", packages, work),
                    dir.path / "release.nix", jobs, workers, maxMemory, rounds);
        }
        fmt::print("load average at the end {}\n", loadAverage());
    } catch (const std::exception& e) {
        fmt::print(stderr, "evaluator_bench: {}\n", e.what());
        return 1;
    }
}

// evaluator_bench: a generated jobset of N trivial jobs (sharing a few hundred dependencies)
// evaluated by evaluateJobs with W workers and by a plain `nix-instantiate <file>`, each with a
// fresh nonce so that neither finds the other's .drv files already written. Prints both wall
// times and peak memory and their ratios; the goal is a time ratio of at most ~1.5.
//
// Environment: HYDRA_BENCH_EVAL_JOBS (N, default 20000), HYDRA_BENCH_EVAL_WORKERS (W, default
// 2), HYDRA_BENCH_EVAL_SHARED (shared dependencies, default 300). Plain main.

#include "bench_support.hh"
#include "evaluator/eval_workers.hh"
#include "util/error.hh"
#include "util/logging.hh"
#include "util/process.hh"

#include <fmt/format.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sys/resource.h>
#include <sys/wait.h>

using namespace hydra;
using Wall = std::chrono::steady_clock;
namespace fs = std::filesystem;

namespace {

using bench::envNumber;

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

/// Wall time and peak resident memory (MiB) of one run.
struct Figures {
    double seconds = 0;
    double peakMiB = 0;
};

double maxRssMiB(const rusage& ru)
{
    return static_cast<double>(ru.ru_maxrss) / 1024.0; // ru_maxrss is in KiB
}

Figures timeEvaluator(const fs::path& file, size_t jobs, unsigned workers)
{
    evaluator::JobSource src;
    src.nixFile = file;
    src.args = {{"nonce", evaluator::NixArg::Kind::String, randomNonce()}};
    src.searchPath = {{"src", file.parent_path().string()}}; // restricted evaluation reads only this
    std::stop_source stop;
    auto start = Wall::now();
    auto r = evaluator::evaluateJobs(src, {.workers = workers}, stop.get_token());
    Figures f{bench::seconds(Wall::now() - start), 0};
    if (r.jobs.size() != jobs || !r.errors.empty())
        throw Error("evaluateJobs found {} jobs and {} errors, not {} jobs", r.jobs.size(), r.errors.size(),
                    jobs);
    rusage ru{};
    ::getrusage(RUSAGE_CHILDREN, &ru); // the largest worker: nothing else ran before
    f.peakMiB = maxRssMiB(ru);
    return f;
}

Figures timeNixInstantiate(const fs::path& file)
{
    auto start = Wall::now();
    Process p =
        Process::spawn({.argv = {"nix-instantiate", file.string(), "--argstr", "nonce", randomNonce()},
                        .stdoutToNull = true});
    pid_t pid = p.release();
    int status = 0;
    rusage ru{};
    while (::wait4(pid, &status, 0, &ru) < 0)
        if (errno != EINTR) throwSysError("wait4");
    Figures f{bench::seconds(Wall::now() - start), maxRssMiB(ru)};
    if (!exitedOk(status)) throw Error("nix-instantiate {}", statusToString(status));
    return f;
}

} // namespace

int main()
{
    std::signal(SIGPIPE, SIG_IGN);
    try {
        if (std::getenv("HYDRA_BENCH_VERBOSE")) log::setLevel(log::Level::Debug);
        if (!std::getenv("NIX_CONFIG")) ::setenv("NIX_CONFIG", "substituters =", 1);
        size_t jobs = envNumber("HYDRA_BENCH_EVAL_JOBS", 20000);
        auto workers = static_cast<unsigned>(envNumber("HYDRA_BENCH_EVAL_WORKERS", 2));
        size_t shared = envNumber("HYDRA_BENCH_EVAL_SHARED", 300);
        bench::TempDir dir("hydra-eval-bench");
        auto file = dir.path / "release.nix";
        writeJobset(file, jobs, shared);

        auto ours = timeEvaluator(file, jobs, workers);
        auto theirs = timeNixInstantiate(file);
        fmt::print("jobs {} shared {} workers {}\n", jobs, shared, workers);
        fmt::print(
            "evaluateJobs:    {:8.2f} s {:9.0f} jobs/s  largest worker {:7.1f} MiB (all {} at once: <= "
            "{:.1f} MiB)\n",
            ours.seconds, static_cast<double>(jobs) / ours.seconds, ours.peakMiB, workers,
            ours.peakMiB * workers);
        fmt::print("nix-instantiate: {:8.2f} s {:9.0f} jobs/s  peak {:7.1f} MiB\n", theirs.seconds,
                   static_cast<double>(jobs) / theirs.seconds, theirs.peakMiB);
        fmt::print("ratio (evaluateJobs / nix-instantiate): time {:.2f}, largest worker memory {:.2f}\n",
                   ours.seconds / theirs.seconds, ours.peakMiB / theirs.peakMiB);
    } catch (const std::exception& e) {
        fmt::print(stderr, "evaluator_bench: {}\n", e.what());
        return 1;
    }
}

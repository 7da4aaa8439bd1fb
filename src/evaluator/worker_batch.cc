#include "evaluator/worker_batch.hh"

#include "util/process.hh"

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <stdlib.h>
#include <unistd.h>

namespace hydra::evaluator {

namespace {

using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

constexpr size_t maxErrorBytes = 4096;
constexpr auto watchInterval = 100ms;

/// The resident memory of a process in MiB; 0 once it is gone.
uint64_t residentMiB(pid_t pid)
{
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(status, line))
        if (line.starts_with("VmRSS:")) return std::stoull(line.substr(6)) / 1024; // in kB
    return 0;
}

std::string stripColours(std::string_view s)
{
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '\x1b') {
            out += s[i];
            continue;
        }
        if (i + 1 < s.size() && s[i + 1] == '[') {
            i += 2;
            while (i < s.size() && (s[i] < 0x40 || s[i] > 0x7e)) ++i;
        }
    }
    return out;
}

/// A temporary file that takes the worker's stdout and stderr, removed when dropped. A file
/// rather than a pipe: the worker writes a line per result, and waking this process for each
/// costs more than the evaluation of a trivial job.
class OutputFile {
public:
    OutputFile()
    {
        auto tmpl = (std::filesystem::temp_directory_path() / "hydra-eval-XXXXXX").string();
        AutoFd fd(::mkstemp(tmpl.data()));
        if (!fd) throwSysError("creating a temporary file from " + tmpl);
        path_ = tmpl;
    }
    OutputFile(const OutputFile&) = delete;
    OutputFile& operator=(const OutputFile&) = delete;
    ~OutputFile() { ::unlink(path_.c_str()); }

    const std::string& path() const { return path_; }
    std::string read() const
    {
        std::ifstream f(path_, std::ios::binary);
        return {std::istreambuf_iterator<char>(f), {}};
    }

private:
    std::string path_;
};

/// Waits for the worker to exit, checking its memory and `stop` every 100 ms; nullopt when it
/// was killed for its memory.
std::optional<int> watch(Process& p, uint64_t maxMiB, const std::stop_token& stop)
{
    for (;;) {
        if (auto status = p.waitUntil(SteadyClock::now() + watchInterval)) return status;
        if (stop.stop_requested()) {
            p.terminate();
            throw EvalInterrupted("evaluation interrupted");
        }
        if (residentMiB(p.pid()) > maxMiB) {
            p.terminate();
            return std::nullopt;
        }
    }
}

/// The result lines among the worker's stderr, in order; the other lines are left in `err`.
std::vector<nlohmann::json> takeResults(std::string& err)
{
    std::vector<nlohmann::json> results;
    std::string rest;
    size_t pos = 0;
    while (pos < err.size()) {
        auto end = err.find('\n', pos);
        if (end == std::string::npos) end = err.size();
        auto line = stripColours(std::string_view(err).substr(pos, end - pos));
        auto j =
            line.starts_with(resultMarker)
                ? nlohmann::json::parse(line.substr(std::string_view(resultMarker).size()), nullptr, false)
                : nlohmann::json(nlohmann::json::value_t::discarded);
        if (!j.is_discarded() && j.value("i", SIZE_MAX) == results.size())
            results.push_back(std::move(j));
        else
            (rest += line) += '\n';
        pos = end + 1;
    }
    err = std::move(rest);
    return results;
}

} // namespace

std::string nixErrorText(std::string_view stderrText)
{
    std::string text = stripColours(stderrText);
    auto start = text.starts_with("error:") ? 0 : text.find("\nerror:");
    if (start != std::string::npos && start > 0) text.erase(0, start + 1);
    std::string kept;
    size_t pos = 0;
    while (pos < text.size()) {
        auto end = text.find('\n', pos);
        if (end == std::string::npos) end = text.size();
        auto line = std::string_view(text).substr(pos, end - pos);
        if (line.find("(use '--show-trace'") == std::string_view::npos) (kept += line) += '\n';
        pos = end + 1;
    }
    while (!kept.empty() && std::isspace(static_cast<unsigned char>(kept.back()))) kept.pop_back();
    if (kept.size() > maxErrorBytes) kept = kept.substr(0, maxErrorBytes) + "\n[error message truncated]";
    return kept;
}

namespace {

/// One worker process: what it printed and how it ended (nullopt: killed for its memory).
struct WorkerRun {
    std::vector<nlohmann::json> results;
    std::optional<int> status;
    std::string text; ///< its other output
};

WorkerRun runWorker(const JobSource& src, const EvalWorkerOptions& opts, const std::string& expression,
                    const std::stop_token& stop)
{
    OutputFile output;
    ProcessOptions po;
    po.argv = workerCommand(src, opts);
    po.pipeStdin = true;
    po.outputFile = output.path();
    po.dieWithParent = true;
    // A jobset sees its own inputs as <name>, never the evaluator's channels.
    po.unsetEnv.push_back("NIX_PATH");
    if (opts.initialHeapSize) po.setEnv["GC_INITIAL_HEAP_SIZE"] = std::to_string(*opts.initialHeapSize);
    Process p = Process::spawn(po);
    try {
        // nix-instantiate reads all of stdin before it evaluates anything.
        writeAll(p.in().get(), expression, SteadyClock::now() + 60s, "nix-instantiate's input");
    } catch (const Error&) {
        // It exited early; its output says why.
    }
    p.in().close();
    WorkerRun run;
    run.status = watch(p, opts.maxMemoryMiB, stop);
    run.text = output.read();
    run.results = takeResults(run.text);
    return run;
}

/// The outcome of a run that should have printed `expected` results.
BatchOutcome outcome(WorkerRun&& run, size_t expected)
{
    BatchOutcome o;
    o.results = std::move(run.results);
    if (!run.status) {
        o.end = BatchOutcome::End::OutOfMemory;
        return o;
    }
    if (exitedOk(*run.status) && o.results.size() == expected) {
        o.end = BatchOutcome::End::Complete;
        return o;
    }
    o.error = nixErrorText(run.text);
    if (o.error.empty())
        o.error = exitedOk(*run.status) ? "nix-instantiate printed no result"
                                        : "nix-instantiate " + statusToString(*run.status);
    return o;
}

} // namespace

BatchOutcome runBatch(const JobSource& src, const EvalWorkerOptions& opts, const std::vector<AttrPath>& paths,
                      bool catchErrors, const std::stop_token& stop, const Rewrites& rewrites)
{
    return outcome(runWorker(src, opts, workerExpression(src, paths, catchErrors, rewrites), stop),
                   paths.size());
}

BatchOutcome runListing(const JobSource& src, const EvalWorkerOptions& opts, unsigned depth,
                        const std::stop_token& stop)
{
    auto run = runWorker(src, opts, listingExpression(src, depth), stop);
    // Complete: the top level and a result for each of its names.
    size_t expected =
        run.results.empty() ? 1 : 1 + run.results[0].value("names", nlohmann::json::array()).size();
    return outcome(std::move(run), expected);
}

} // namespace hydra::evaluator

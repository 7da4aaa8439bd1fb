#include "evaluator/worker_batch.hh"

#include "util/process.hh"

#include <cerrno>
#include <chrono>
#include <fstream>
#include <poll.h>
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

/// Reads what is available from `fd` into `into`; closes it at end of file.
void drain(AutoFd& fd, std::string& into)
{
    char buf[65536];
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n > 0)
        into.append(buf, static_cast<size_t>(n));
    else if (n == 0 || (errno != EINTR && errno != EAGAIN))
        fd.close();
}

/// The child's output, and whether it was killed for its memory use.
struct Watched {
    std::string out, err;
    bool outOfMemory = false;
};

Watched watch(Process& p, uint64_t maxMiB, const std::stop_token& stop)
{
    Watched w;
    auto nextCheck = SteadyClock::now();
    while (p.out() || p.err()) {
        std::vector<pollfd> fds;
        if (p.out()) fds.push_back({p.out().get(), POLLIN, 0});
        if (p.err()) fds.push_back({p.err().get(), POLLIN, 0});
        int r = ::poll(fds.data(), fds.size(), static_cast<int>(watchInterval.count()));
        if (r < 0 && errno != EINTR) throwSysError("poll");
        for (auto& f : fds)
            if (f.revents) f.fd == p.out().get() ? drain(p.out(), w.out) : drain(p.err(), w.err);
        if (stop.stop_requested()) {
            p.terminate();
            throw EvalInterrupted("evaluation interrupted");
        }
        if (SteadyClock::now() >= nextCheck) {
            if (residentMiB(p.pid()) > maxMiB) {
                p.terminate();
                w.outOfMemory = true;
                return w;
            }
            nextCheck = SteadyClock::now() + watchInterval;
        }
    }
    return w;
}

int waitStoppable(Process& p, const std::stop_token& stop)
{
    for (;;) {
        if (auto status = p.waitUntil(SteadyClock::now() + watchInterval)) return *status;
        if (stop.stop_requested()) {
            p.terminate();
            throw EvalInterrupted("evaluation interrupted");
        }
    }
}

BatchOutcome failed(std::string error)
{
    return {BatchOutcome::Kind::Failed, nullptr, std::move(error)};
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

BatchOutcome runBatch(const JobSource& src, const EvalWorkerOptions& opts, const std::vector<AttrPath>& paths,
                      bool catchErrors, const std::stop_token& stop)
{
    ProcessOptions po;
    po.argv = workerCommand(src, opts);
    po.pipeStdin = po.pipeStdout = po.pipeStderr = true;
    po.dieWithParent = true;
    if (opts.initialHeapSize) po.setEnv["GC_INITIAL_HEAP_SIZE"] = std::to_string(*opts.initialHeapSize);
    Process p = Process::spawn(po);
    try {
        // nix-instantiate reads all of stdin before it evaluates anything.
        writeAll(p.in().get(), workerExpression(src, paths, catchErrors), SteadyClock::now() + 60s,
                 "nix-instantiate's input");
    } catch (const Error&) {
        // It exited early; its stderr says why.
    }
    p.in().close();
    Watched w = watch(p, opts.maxMemoryMiB, stop);
    if (w.outOfMemory) return {BatchOutcome::Kind::OutOfMemory, nullptr, {}};
    int status = waitStoppable(p, stop);
    if (!exitedOk(status)) {
        auto msg = nixErrorText(w.err);
        return failed(msg.empty() ? "nix-instantiate " + statusToString(status) : msg);
    }
    auto results = nlohmann::json::parse(w.out, nullptr, false);
    if (results.is_discarded() || !results.is_array() || results.size() != paths.size())
        return failed("nix-instantiate printed unexpected output: " + w.out.substr(0, 200));
    return {BatchOutcome::Kind::Ok, std::move(results), {}};
}

} // namespace hydra::evaluator

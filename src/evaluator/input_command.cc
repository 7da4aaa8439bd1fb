#include "evaluator/input_command.hh"

#include <algorithm>
#include <cerrno>
#include <poll.h>
#include <signal.h>
#include <sstream>
#include <unistd.h>
#include <vector>

namespace hydra::evaluator {

namespace {

using Clock = std::chrono::steady_clock;

// How often a wait looks at the stop token.
constexpr auto slice = std::chrono::milliseconds(200);

[[noreturn]] void giveUp(Process& p, const std::string& prog, std::chrono::seconds timeout, bool stopped)
{
    p.terminate();
    if (stopped) throw CommandInterrupted("{} was interrupted", prog);
    throw TimeoutError("{} did not finish within {} s", prog, timeout.count());
}

// Reads whatever is ready on stdout/stderr; closes a pipe at end of file.
void drainReady(Process& p, RunResult& res, int waitMs)
{
    std::vector<pollfd> fds;
    if (p.out()) fds.push_back({p.out().get(), POLLIN, 0});
    if (p.err()) fds.push_back({p.err().get(), POLLIN, 0});
    int r = ::poll(fds.data(), fds.size(), waitMs);
    if (r < 0 && errno != EINTR) throwSysError("poll");
    for (auto& f : fds) {
        if (!f.revents) continue;
        bool isOut = f.fd == p.out().get();
        char buf[65536];
        ssize_t n = ::read(f.fd, buf, sizeof buf);
        if (n > 0)
            (isOut ? res.out : res.err).append(buf, static_cast<size_t>(n));
        else if (n == 0 || (errno != EINTR && errno != EAGAIN))
            (isOut ? p.out() : p.err()).close();
    }
}

int msUntil(Clock::time_point deadline)
{
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    return static_cast<int>(std::clamp<long long>(left.count(), 0, slice.count()));
}

} // namespace

RunResult runCommand(ProcessOptions opts, std::chrono::seconds timeout, const std::stop_token& stop)
{
    opts.pipeStdin = true;
    opts.pipeStdout = true;
    opts.pipeStderr = true;
    std::string prog = opts.argv.empty() ? "" : opts.argv[0];
    auto deadline = Clock::now() + timeout;
    Process p = Process::spawn(opts);
    p.in().close(); // nothing to say: a command that asks for input reads end of file
    RunResult res;
    while (p.out() || p.err()) {
        if (stop.stop_requested() || Clock::now() >= deadline)
            giveUp(p, prog, timeout, stop.stop_requested());
        drainReady(p, res, msUntil(deadline));
    }
    for (;;) {
        if (auto status = p.waitUntil(Clock::now() + slice)) {
            res.status = *status;
            return res;
        }
        if (stop.stop_requested() || Clock::now() >= deadline)
            giveUp(p, prog, timeout, stop.stop_requested());
    }
}

std::string runCommandChecked(const std::string& what, ProcessOptions opts, std::chrono::seconds timeout,
                              const std::stop_token& stop)
{
    auto res = runCommand(std::move(opts), timeout, stop);
    if (!exitedOk(res.status)) {
        auto lines = errorLines(res.err);
        throw Error("{} failed: {}", what, lines.empty() ? statusToString(res.status) : lines);
    }
    return res.out;
}

std::string errorLines(const std::string& err)
{
    std::istringstream in(err);
    std::string line, last, picked;
    int count = 0;
    while (std::getline(in, line)) {
        while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
        if (line.empty()) continue;
        last = line;
        if (count < 3 && (line.starts_with("fatal:") || line.starts_with("error:"))) {
            picked += (count++ ? "; " : "") + line;
        }
    }
    return picked.empty() ? last : picked;
}

} // namespace hydra::evaluator

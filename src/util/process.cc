#include "util/process.hh"

#include "util/error.hh"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <utility>

extern char** environ;

namespace hydra {

namespace {

std::vector<std::string> buildEnv(const ProcessOptions& opts)
{
    std::map<std::string, std::string> env;
    for (char** e = environ; *e; ++e) {
        std::string_view kv(*e);
        auto eq = kv.find('=');
        if (eq == std::string_view::npos) continue;
        env.emplace(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));
    }
    for (auto& k : opts.unsetEnv) env.erase(k);
    for (auto& [k, v] : opts.setEnv) env[k] = v;
    std::vector<std::string> out;
    out.reserve(env.size());
    for (auto& [k, v] : env) out.push_back(k + "=" + v);
    return out;
}

// Runs in the child between fork and exec: only async-signal-safe calls.
[[noreturn]] void childExec(const ProcessOptions& opts, char* const* argv, char* const* envp, int inFd,
                            int outFd, int errFd, int reportFd)
{
    auto fail = [&](int err) {
        auto r = ::write(reportFd, &err, sizeof err);
        (void) r;
        _exit(127);
    };
    if ((opts.newSession ? ::setsid() : ::setpgid(0, 0)) < 0) fail(errno);
    if (opts.dieWithParent && ::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) fail(errno);
    sigset_t all;
    sigemptyset(&all);
    sigprocmask(SIG_SETMASK, &all, nullptr);
    if (inFd >= 0 && dup2(inFd, STDIN_FILENO) < 0) fail(errno);
    if (outFd >= 0 && dup2(outFd, STDOUT_FILENO) < 0) fail(errno);
    if (errFd >= 0 && dup2(errFd, STDERR_FILENO) < 0) fail(errno);
    if (!opts.cwd.empty() && chdir(opts.cwd.c_str()) != 0) fail(errno);
    if (opts.gid && (setgroups(0, nullptr) != 0 || setgid(*opts.gid) != 0)) fail(errno);
    if (opts.uid && setuid(*opts.uid) != 0) fail(errno);
    execvpe(argv[0], argv, envp);
    fail(errno);
    _exit(127); // unreachable: fail() exits, but the compiler cannot see through the lambda
}

} // namespace

Process Process::spawn(const ProcessOptions& opts)
{
    if (opts.argv.empty()) throw Error("cannot start a process without a program name");
    std::vector<std::string> envStrings = buildEnv(opts);
    std::vector<char*> argv, envp;
    for (auto& a : opts.argv) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    for (auto& e : envStrings) envp.push_back(e.data());
    envp.push_back(nullptr);

    AutoFd inR, inW, outR, outW, errR, errW, nullFd;
    if (opts.pipeStdin) std::tie(inR, inW) = makePipe();
    if (opts.pipeStdout) std::tie(outR, outW) = makePipe();
    if (opts.pipeStderr) std::tie(errR, errW) = makePipe();
    if (!opts.outputFile.empty() && !opts.pipeStdout) {
        nullFd = AutoFd(::open(opts.outputFile.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640));
        if (!nullFd) throwSysError(fmt::format("opening {}", opts.outputFile));
    } else if (opts.stdoutToNull && !opts.pipeStdout) {
        nullFd = AutoFd(::open("/dev/null", O_WRONLY | O_CLOEXEC));
        if (!nullFd) throwSysError("opening /dev/null");
    }
    auto [reportR, reportW] = makePipe();

    int outFd = opts.pipeStdout ? outW.get() : nullFd.get();
    bool merge = opts.stderrToStdout || !opts.outputFile.empty();
    int errFd = opts.pipeStderr ? errW.get() : (merge ? outFd : -1);

    pid_t pid = ::fork();
    if (pid < 0) throwSysError(fmt::format("cannot start {}: fork", opts.argv[0]));
    if (pid == 0) childExec(opts, argv.data(), envp.data(), inR.get(), outFd, errFd, reportW.get());

    reportW.close();
    int childErr = 0;
    ssize_t n;
    do n = ::read(reportR.get(), &childErr, sizeof childErr);
    while (n < 0 && errno == EINTR);
    if (n == sizeof childErr) {
        int st;
        while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
        }
        throw SpawnError(fmt::format("cannot start {}: {}", opts.argv[0], std::strerror(childErr)), childErr);
    }

    Process p;
    p.pid_ = pid;
    p.in_ = std::move(inW);
    p.out_ = std::move(outR);
    p.err_ = std::move(errR);
    return p;
}

Process::Process(Process&& o) noexcept
    : pid_(std::exchange(o.pid_, -1)), in_(std::move(o.in_)), out_(std::move(o.out_)), err_(std::move(o.err_))
{}

Process& Process::operator=(Process&& o) noexcept
{
    if (this != &o) {
        terminate();
        pid_ = std::exchange(o.pid_, -1);
        in_ = std::move(o.in_);
        out_ = std::move(o.out_);
        err_ = std::move(o.err_);
    }
    return *this;
}

Process::~Process()
{
    terminate();
}

int Process::wait()
{
    if (pid_ <= 0) throw Error("waiting for a process that is not running");
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0) {
        if (errno != EINTR) throwSysError("waitpid");
    }
    pid_ = -1;
    return status;
}

std::optional<int> Process::waitUntil(Deadline deadline)
{
    if (pid_ <= 0) throw Error("waiting for a process that is not running");
    // A pidfd turns readable the moment the child exits, so short commands are reaped without
    // a polling delay; where the kernel has none (before Linux 5.3), poll with a growing pause.
    AutoFd exited(static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0)));
    auto pause = std::chrono::milliseconds(1);
    for (;;) {
        int status = 0;
        pid_t r = ::waitpid(pid_, &status, WNOHANG);
        if (r == pid_) {
            pid_ = -1;
            return status;
        }
        if (r < 0 && errno != EINTR) throwSysError("waitpid");
        auto now = std::chrono::steady_clock::now();
        if (now >= deadline) return std::nullopt;
        if (exited) {
            auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - now).count();
            pollfd p{exited.get(), POLLIN, 0};
            ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 60'000)));
            continue;
        }
        std::this_thread::sleep_for(pause);
        pause = std::min(pause * 2, std::chrono::milliseconds(50));
    }
}

void Process::kill(int sig)
{
    if (pid_ > 0) ::kill(-pid_, sig);
}

void Process::terminate()
{
    if (pid_ <= 0) return;
    kill(SIGKILL);
    int status;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
}

std::string statusToString(int status)
{
    if (WIFEXITED(status)) return fmt::format("exited with status {}", WEXITSTATUS(status));
    if (WIFSIGNALED(status)) return fmt::format("killed by signal {}", WTERMSIG(status));
    return fmt::format("ended with wait status {}", status);
}

bool exitedOk(int status)
{
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

namespace {

// Feeds the child's stdin and drains stdout and stderr together, so that no pipe can fill up
// and stall the child; returns false if the deadline passed first.
class IoPump {
public:
    IoPump(Process& p, std::string_view input, RunResult& res) : p_(p), input_(input), res_(res)
    {
        if (input_.empty()) {
            p_.in().close();
            return;
        }
        // Non-blocking: poll() says "writable" once a little room is free, and a blocking write
        // of more would wait for the child, which may itself wait for us to read its output.
        int flags = ::fcntl(p_.in().get(), F_GETFL);
        if (flags < 0 || ::fcntl(p_.in().get(), F_SETFL, flags | O_NONBLOCK) < 0)
            throwSysError("making the child's stdin non-blocking");
    }

    bool run(Deadline deadline)
    {
        while (p_.out() || p_.err()) {
            std::vector<pollfd> fds;
            if (p_.in()) fds.push_back({p_.in().get(), POLLOUT, 0});
            if (p_.out()) fds.push_back({p_.out().get(), POLLIN, 0});
            if (p_.err()) fds.push_back({p_.err().get(), POLLIN, 0});
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) return false;
            int r = ::poll(fds.data(), fds.size(), static_cast<int>(std::min<long long>(left.count(), 1000)));
            if (r < 0 && errno != EINTR) throwSysError("poll");
            for (auto& f : fds)
                if (f.revents) f.fd == p_.in().get() ? feed() : drain(f.fd);
        }
        return true;
    }

private:
    void feed()
    {
        ssize_t w =
            ::write(p_.in().get(), input_.data() + fed_, std::min<size_t>(input_.size() - fed_, 65536));
        if (w > 0) fed_ += static_cast<size_t>(w);
        // A child that closed its stdin gets no more input; that is its business.
        if (w < 0 && errno != EAGAIN && errno != EINTR) fed_ = input_.size();
        if (fed_ == input_.size()) p_.in().close();
    }

    void drain(int fd)
    {
        bool isOut = fd == p_.out().get();
        char buf[65536];
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n > 0)
            (isOut ? res_.out : res_.err).append(buf, static_cast<size_t>(n));
        else if (n == 0 || (errno != EINTR && errno != EAGAIN))
            (isOut ? p_.out() : p_.err()).close();
    }

    Process& p_;
    std::string_view input_;
    RunResult& res_;
    size_t fed_ = 0;
};

} // namespace

RunResult run(ProcessOptions opts, std::string_view input, std::chrono::milliseconds timeout)
{
    opts.pipeStdin = true;
    opts.pipeStdout = true;
    opts.pipeStderr = true;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    Process p = Process::spawn(opts);
    RunResult res;
    bool finished = IoPump(p, input, res).run(deadline);
    p.in().close();
    auto status = finished ? p.waitUntil(deadline) : std::nullopt;
    if (!status) {
        p.terminate();
        throw TimeoutError("{} did not finish within {} s", opts.argv[0], timeout.count() / 1000);
    }
    res.status = *status;
    return res;
}

std::string runChecked(ProcessOptions opts, std::string_view input, std::chrono::milliseconds timeout)
{
    std::string what = opts.argv.empty() ? "" : opts.argv[0];
    auto res = run(std::move(opts), input, timeout);
    if (!exitedOk(res.status)) {
        auto err = res.err;
        while (!err.empty() && (err.back() == '\n' || err.back() == ' ')) err.pop_back();
        throw Error("{} {}{}{}", what, statusToString(res.status), err.empty() ? "" : ": ", err);
    }
    return res.out;
}

} // namespace hydra

#include "util/process.hh"

#include "util/error.hh"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <utility>

extern char** environ;

namespace hydra {

namespace {

bool namesVariable(std::string_view entry, std::string_view name)
{
    return entry.size() > name.size() && entry[name.size()] == '=' && entry.starts_with(name);
}

// The child's environment: the inherited entries (pointers into environ, not copies) less those
// unset or set anew, then the ones set, whose text `setEntries` holds: no copy of every entry at
// each start.
std::vector<char*> childEnv(const ProcessOptions& opts, std::vector<std::string>& setEntries)
{
    std::vector<char*> out;
    for (char** e = environ; *e; ++e) {
        std::string_view kv(*e);
        if (kv.find('=') == std::string_view::npos) continue;
        bool replaced = std::any_of(opts.unsetEnv.begin(), opts.unsetEnv.end(),
                                    [&](const std::string& k) { return namesVariable(kv, k); }) ||
                        std::any_of(opts.setEnv.begin(), opts.setEnv.end(),
                                    [&](const auto& set) { return namesVariable(kv, set.first); });
        if (!replaced) out.push_back(*e);
    }
    setEntries.clear();
    for (const auto& [k, v] : opts.setEnv) setEntries.push_back(k + "=" + v);
    for (auto& e : setEntries) out.push_back(e.data());
    out.push_back(nullptr);
    return out;
}

// What the child does before it becomes the program, prepared by the parent in plain values:
// the child may share the parent's memory (startChild), so it must not allocate, take locks or
// run C++ library code.
struct ChildPlan {
    char* const* argv = nullptr;
    char* const* envp = nullptr;
    const char* cwd = nullptr;
    int inFd = -1, outFd = -1, errFd = -1;
    bool newSession = false;
    bool dieWithParent = false;
    bool setGid = false, setUid = false;
    gid_t gid = 0;
    uid_t uid = 0;
    int reportFd = -1; ///< a forked child writes its errno here; one sharing memory sets `error`
    int error = 0;
};

// Code that runs in the child before exec is not instrumented by AddressSanitizer: its frames
// would leave poisoned shadow over a stack that is unmapped once the child has exec'd.
#define HYDRA_CHILD_SIDE __attribute__((no_sanitize("address")))

[[noreturn]] HYDRA_CHILD_SIDE void childFail(ChildPlan& plan, int err)
{
    plan.error = err;
    if (plan.reportFd >= 0) {
        auto r = ::write(plan.reportFd, &err, sizeof err);
        (void) r;
    }
    _exit(127);
}

// A handler of the parent's must not run in a child sharing its memory: every signal it catches
// gets its default action before the child unblocks signals (ignored ones stay ignored, as
// across exec).
HYDRA_CHILD_SIDE void defaultCaughtSignals()
{
    for (int sig = 1; sig < NSIG; ++sig) {
        struct sigaction sa {};
        if (::sigaction(sig, nullptr, &sa) != 0 || sa.sa_handler == SIG_DFL || sa.sa_handler == SIG_IGN)
            continue;
        sa = {};
        sa.sa_handler = SIG_DFL;
        ::sigaction(sig, &sa, nullptr);
    }
}

// The child between its start and exec: only async-signal-safe calls.
HYDRA_CHILD_SIDE int childMain(void* arg)
{
    auto& plan = *static_cast<ChildPlan*>(arg);
    defaultCaughtSignals();
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    if ((plan.newSession ? ::setsid() : ::setpgid(0, 0)) < 0) childFail(plan, errno);
    if (plan.dieWithParent && ::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) childFail(plan, errno);
    if (plan.inFd >= 0 && dup2(plan.inFd, STDIN_FILENO) < 0) childFail(plan, errno);
    if (plan.outFd >= 0 && dup2(plan.outFd, STDOUT_FILENO) < 0) childFail(plan, errno);
    if (plan.errFd >= 0 && dup2(plan.errFd, STDERR_FILENO) < 0) childFail(plan, errno);
    if (plan.cwd && chdir(plan.cwd) != 0) childFail(plan, errno);
    if (plan.setGid && (setgroups(0, nullptr) != 0 || setgid(plan.gid) != 0)) childFail(plan, errno);
    if (plan.setUid && setuid(plan.uid) != 0) childFail(plan, errno);
    execvpe(plan.argv[0], plan.argv, plan.envp);
    childFail(plan, errno);
}

// Forks a child that reports a failure before exec through a pipe. Only for a change of user:
// glibc's setuid() and setgid() signal every thread of the process to change along, and a child
// sharing the parent's memory would have them signal the parent's threads.
pid_t forkChild(ChildPlan& plan, int& childErr)
{
    auto [reportR, reportW] = makePipe();
    plan.reportFd = reportW.get();
    pid_t pid = ::fork();
    if (pid < 0) throwSysError(fmt::format("cannot start {}: fork", plan.argv[0]));
    if (pid == 0) childMain(&plan);
    reportW.close();
    ssize_t n;
    do n = ::read(reportR.get(), &childErr, sizeof childErr);
    while (n < 0 && errno == EINTR);
    if (n != sizeof childErr) childErr = 0;
    return pid;
}

// The top of this thread's stack for the children it starts, kept from one start to the next:
// a stack mapped and unmapped per start made every CPU running another of the daemon's threads
// flush its TLB (munmap), and its first use took page faults. A child uses it only while the
// thread that started it is suspended (CLONE_VFORK), so one per thread is enough.
void* childStackTop(size_t argc)
{
    struct Stack {
        void* base = nullptr;
        size_t size = 0;
        Stack() = default;
        Stack(const Stack&) = delete;
        Stack& operator=(const Stack&) = delete;
        ~Stack()
        {
            if (base) ::munmap(base, size);
        }
    };
    thread_local Stack stack;
    // execvpe keeps the path it tries and, for a script, a new argv on the stack.
    size_t need = (size_t{64} * 1024 + (argc + 2) * sizeof(char*) + 4095) & ~size_t{4095};
    if (need > stack.size) {
        void* base =
            ::mmap(nullptr, need, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
        if (base == MAP_FAILED) throwSysError("allocating a stack for a child process");
        if (stack.base) ::munmap(stack.base, stack.size);
        stack.base = base;
        stack.size = need;
    }
    return static_cast<char*>(stack.base) + stack.size;
}

// Starts the child as glibc's posix_spawn does, sharing the parent's memory and suspending the
// calling thread until the child has exec'd or exited: fork()'s copy of the page tables, and the
// copy-on-write faults it makes every other thread take until the exec, cost more than the
// program's own start in a large multithreaded daemon. posix_spawn itself cannot set the
// parent-death signal. Returns the pid; `childErr` is the errno of a child that did not exec.
pid_t startChild(ChildPlan& plan, size_t argc, int& childErr)
{
    if (plan.setUid || plan.setGid) return forkChild(plan, childErr);
    void* stackTop = childStackTop(argc);
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pid_t pid = ::clone(childMain, stackTop, CLONE_VM | CLONE_VFORK | SIGCHLD, &plan);
    int cloneErr = errno;
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    if (pid < 0) {
        errno = cloneErr;
        throwSysError(fmt::format("cannot start {}: clone", plan.argv[0]));
    }
    childErr = plan.error;
    return pid;
}

// /dev/null, opened once for the whole process (close-on-exec; a child gets it by dup2) rather
// than at every start.
int devNullForReading()
{
    static const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd < 0) throwSysError("opening /dev/null");
    return fd;
}

// The child's ends of its standard streams (pipes, a file, /dev/null) and the parent's ends.
struct ChildStreams {
    AutoFd inR, inW, outR, outW, errR, errW, file;
    int stdinFd = -1;

    explicit ChildStreams(const ProcessOptions& opts)
    {
        if (opts.pipeStdin) std::tie(inR, inW) = makePipe();
        stdinFd = opts.pipeStdin ? inR.get() : (opts.stdinFromNull ? devNullForReading() : -1);
        if (opts.pipeStdout) std::tie(outR, outW) = makePipe();
        if (opts.pipeStderr) std::tie(errR, errW) = makePipe();
        if (!opts.outputFile.empty() && !opts.pipeStdout) {
            file = AutoFd(::open(opts.outputFile.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640));
            if (!file) throwSysError(fmt::format("opening {}", opts.outputFile));
        } else if (opts.stdoutToNull && !opts.pipeStdout) {
            file = AutoFd(::open("/dev/null", O_WRONLY | O_CLOEXEC));
            if (!file) throwSysError("opening /dev/null");
        }
    }
};

ChildPlan planOf(const ProcessOptions& opts, const ChildStreams& io, char* const* argv, char* const* envp)
{
    ChildPlan plan;
    plan.argv = argv;
    plan.envp = envp;
    plan.cwd = opts.cwd.empty() ? nullptr : opts.cwd.c_str();
    plan.newSession = opts.newSession;
    plan.dieWithParent = opts.dieWithParent;
    plan.setGid = opts.gid.has_value();
    plan.gid = opts.gid.value_or(0);
    plan.setUid = opts.uid.has_value();
    plan.uid = opts.uid.value_or(0);
    plan.inFd = io.stdinFd;
    plan.outFd = opts.pipeStdout ? io.outW.get() : io.file.get();
    bool merge = opts.stderrToStdout || !opts.outputFile.empty();
    plan.errFd = opts.pipeStderr ? io.errW.get() : (merge ? plan.outFd : -1);
    return plan;
}

} // namespace

Process Process::spawn(const ProcessOptions& opts)
{
    if (opts.argv.empty()) throw Error("cannot start a process without a program name");
    std::vector<std::string> setEntries;
    std::vector<char*> envp = childEnv(opts, setEntries);
    std::vector<char*> argv;
    argv.reserve(opts.argv.size() + 1);
    for (const auto& a : opts.argv) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);

    ChildStreams io(opts);
    ChildPlan plan = planOf(opts, io, argv.data(), envp.data());
    int childErr = 0;
    pid_t pid = startChild(plan, opts.argv.size(), childErr);
    if (childErr != 0) {
        int st;
        while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
        }
        throw SpawnError(fmt::format("cannot start {}: {}", opts.argv[0], std::strerror(childErr)), childErr);
    }

    Process p;
    p.pid_ = pid;
    p.in_ = std::move(io.inW);
    p.out_ = std::move(io.outR);
    p.err_ = std::move(io.errR);
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

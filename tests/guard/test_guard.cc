// test_guard: runs one integration test program so that nothing it started outlives it.
//
// Usage: test_guard SECONDS PROGRAM [ARGS...]
//
// Integration tests start servers (sshd build hosts, PostgreSQL, queue runners) that inherit
// the test's output pipe. If a test dies without its destructors (a sanitizer abort, a
// timeout kill), such a leftover keeps ctest's pipe open and ctest waits for it forever. The
// guard adopts every orphan (child subreaper), gives the test SECONDS, prints the stacks of a
// test that overran them, and ends whatever is left before it exits with the test's status.

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fstream>
#include <string>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

pid_t parentOf(pid_t pid)
{
    std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    std::getline(f, line);
    // The command name may hold spaces and parentheses: the fields follow the last ')'.
    auto close = line.rfind(')');
    if (close == std::string::npos || close + 4 > line.size()) return -1;
    return static_cast<pid_t>(std::atol(line.c_str() + close + 4)); // ") S <ppid>"
}

/// Every process descending from this one.
std::vector<pid_t> descendants()
{
    std::vector<std::pair<pid_t, pid_t>> all; // pid, parent
    if (DIR* d = ::opendir("/proc")) {
        while (dirent* e = ::readdir(d)) {
            char* end = nullptr;
            long pid = std::strtol(e->d_name, &end, 10);
            if (*end == '\0' && pid > 0)
                all.emplace_back(static_cast<pid_t>(pid), parentOf(static_cast<pid_t>(pid)));
        }
        ::closedir(d);
    }
    std::vector<pid_t> found{::getpid()};
    for (size_t i = 0; i < found.size(); ++i)
        for (const auto& [pid, parent] : all)
            if (parent == found[i]) found.push_back(pid);
    found.erase(found.begin());
    return found;
}

/// Reaps every exited child; returns the status of `main` if it was among them.
bool reap(pid_t main, int& mainStatus)
{
    bool mainDone = false;
    for (;;) {
        int st = 0;
        pid_t p = ::waitpid(-1, &st, WNOHANG);
        if (p <= 0) return mainDone;
        if (p == main) {
            mainStatus = st;
            mainDone = true;
        }
    }
}

void printStacks(pid_t pid, const char* program, long seconds)
{
    std::fprintf(stderr, "test_guard: %s still running after %ld s; its threads:\n", program, seconds);
    std::fflush(stderr);
    std::string cmd = "gdb -p " + std::to_string(pid) +
                      " -batch -nx -ex 'thread apply all bt 30' 2>/dev/null | grep -v '^\\[New LWP' >&2;"
                      " ps -e -o pid,ppid,etime,args --forest >&2";
    if (std::system(cmd.c_str()) != 0) std::fprintf(stderr, "test_guard: could not print the stacks\n");
}

/// Ends what the test left behind: a moment to finish by itself (clean-up guards stop their
/// servers when the test's pipes close), then SIGTERM, then SIGKILL.
void endLeftovers()
{
    int ignored = 0;
    auto until = Clock::now() + 30s;
    while (!descendants().empty() && Clock::now() < until) {
        reap(-1, ignored);
        std::this_thread::sleep_for(100ms);
    }
    for (int sig : {SIGTERM, SIGKILL}) {
        auto left = descendants();
        if (left.empty()) break;
        std::fprintf(stderr, "test_guard: %zu processes outlived the test; sending signal %d\n", left.size(),
                     sig);
        for (pid_t p : left) ::kill(p, sig);
        auto wait = Clock::now() + 5s;
        while (!descendants().empty() && Clock::now() < wait) {
            reap(-1, ignored);
            std::this_thread::sleep_for(100ms);
        }
    }
    reap(-1, ignored);
}

} // namespace

int main(int argc, char** argv)
{
    if (argc < 3) {
        std::fprintf(stderr, "usage: test_guard SECONDS PROGRAM [ARGS...]\n");
        return 2;
    }
    long seconds = std::atol(argv[1]);
    if (::prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) std::perror("test_guard: PR_SET_CHILD_SUBREAPER");
    pid_t child = ::fork();
    if (child < 0) {
        std::perror("test_guard: fork");
        return 2;
    }
    if (child == 0) {
        ::execvp(argv[2], argv + 2);
        std::fprintf(stderr, "test_guard: cannot start %s: %s\n", argv[2], std::strerror(errno));
        std::_Exit(127);
    }
    int status = 0;
    bool timedOut = false;
    auto deadline = Clock::now() + std::chrono::seconds(seconds);
    while (!reap(child, status)) {
        if (!timedOut && Clock::now() > deadline) {
            timedOut = true;
            printStacks(child, argv[2], seconds);
            ::kill(child, SIGKILL);
        }
        std::this_thread::sleep_for(50ms);
    }
    endLeftovers();
    if (timedOut) return 1;
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    std::fprintf(stderr, "test_guard: %s ended by signal %d\n", argv[2], WTERMSIG(status));
    return 128 + WTERMSIG(status);
}

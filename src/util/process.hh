#pragma once
// Process: a child process with optional pipes, killed and reaped when its owner lets go.

#include "util/error.hh"
#include "util/fd.hh"

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <sys/types.h>
#include <utility>
#include <vector>

namespace hydra {

/// How to start a child: program and arguments, pipes, environment and identity.
struct ProcessOptions {
    std::vector<std::string> argv;             ///< argv[0] is searched in PATH
    std::map<std::string, std::string> setEnv; ///< added to (or replacing) the inherited environment
    std::vector<std::string> unsetEnv;
    bool pipeStdin = false;
    bool stdinFromNull = false; ///< when not piped: stdin reads /dev/null (end of file at once)
    bool pipeStdout = false;
    bool pipeStderr = false;
    bool stdoutToNull = false;   ///< when not piped
    std::string outputFile;      ///< when not piped: stdout and stderr appended to this file
    bool newSession = false;     ///< a session of its own (a daemon that outlives its parent)
    bool dieWithParent = false;  ///< SIGKILL when the spawning thread's process dies
    bool stderrToStdout = false; ///< merge stderr into the stdout pipe
    std::optional<uid_t> uid;    ///< drop to this user (root only)
    std::optional<gid_t> gid;
    std::string cwd;
};

/// The child could not become the program (exec or the set-up before it failed): its errno.
class SpawnError : public Error {
public:
    SpawnError(const std::string& msg, int errorNumber) : Error(msg), errorNumber_(errorNumber) {}
    int errorNumber() const { return errorNumber_; }

private:
    int errorNumber_;
};

/// A running child. Destruction kills its process group and reaps it: no zombies.
class Process {
public:
    /// Starts the child. If exec fails it throws SpawnError "cannot start <argv[0]>: <reason>".
    static Process spawn(const ProcessOptions& opts);

    Process(Process&& o) noexcept;
    Process& operator=(Process&& o) noexcept;
    Process(const Process&) = delete;
    Process& operator=(const Process&) = delete;
    ~Process();

    pid_t pid() const { return pid_; }
    AutoFd& in() { return in_; }
    AutoFd& out() { return out_; }
    AutoFd& err() { return err_; }

    /// Blocks until the child exits; returns the raw wait status.
    int wait();
    /// Waits until the deadline; nullopt if still running.
    std::optional<int> waitUntil(Deadline deadline);
    /// Signals the child's process group (the child leads its own group).
    void kill(int sig);
    /// Kills with SIGKILL and reaps, if still running.
    void terminate();
    bool running() const { return pid_ > 0; }
    /// Lets the child run on unowned: it is neither killed nor reaped by this object.
    pid_t release() { return std::exchange(pid_, -1); }

private:
    Process() = default;
    pid_t pid_ = -1;
    AutoFd in_, out_, err_;
};

/// Human-readable wait status: "exited with status 1", "killed by signal 9".
std::string statusToString(int status);
bool exitedOk(int status);

/// Outcome of run(): wait status and captured output.
struct RunResult {
    int status = 0;
    std::string out;
    std::string err;
};

/// Runs a child to completion, feeding `input`, capturing stdout and stderr; kills it and
/// throws TimeoutError if it runs past `timeout`.
RunResult run(ProcessOptions opts, std::string_view input = {},
              std::chrono::milliseconds timeout = std::chrono::minutes(10));

/// run() that throws Error (with the program's stderr) unless the child exits with 0.
std::string runChecked(ProcessOptions opts, std::string_view input = {},
                       std::chrono::milliseconds timeout = std::chrono::minutes(10));

} // namespace hydra

#pragma once
// TestDaemon: one of hydra's daemons run by a test as production runs it, with its output in a
// log file and its life tied to the test process.

#include "util/process.hh"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace hydra::test {

/// A built daemon started, stopped or killed by a test.
class TestDaemon {
public:
    /// `program`: the built program's path; its output is appended to `logFile`.
    TestDaemon(std::string program, std::string logFile);

    /// Starts it with `env` added to the environment and `unsetEnv` removed. Its output goes to
    /// the log, not to ctest's pipe, and it dies with the test: a test process that crashes must
    /// not leave a daemon holding the pipe until ctest's timeout.
    void start(const std::map<std::string, std::string>& env, const std::vector<std::string>& unsetEnv = {},
               const std::vector<std::string>& args = {});
    /// SIGTERM; the daemon must exit by itself within 60 s. Returns its wait status (0 when it
    /// was not running).
    int stop();
    /// SIGKILL, as a crash; waits until it is gone.
    void kill();
    bool running() const { return process_ && process_->running(); }
    /// Its process id while it runs, else -1 (to look at its children in /proc).
    pid_t pid() const { return running() ? process_->pid() : -1; }
    std::string log() const;

private:
    std::string program_;
    std::string logFile_;
    std::optional<Process> process_;
};

} // namespace hydra::test

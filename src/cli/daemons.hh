#pragma once
// Daemons: the long-running programs `hydra up` starts beside the hydra command, each with a
// pid file and a log under the state directory.

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace hydra::cli {

/// Starts, stops and reports the daemons installed next to the `hydra` program.
class Daemons {
public:
    /// `binDir` holds the programs; pid files go to <dataDir>/run, logs to <dataDir>/logs.
    Daemons(std::string dataDir, std::string binDir);

    /// Starts each installed daemon that is not running, with `env` added to its environment.
    /// Returns one line per daemon for the user.
    std::vector<std::string> startAll(const std::map<std::string, std::string>& env) const;
    /// Sends SIGTERM to each running daemon and waits up to `timeout` for it to exit.
    std::vector<std::string> stopAll(std::chrono::seconds timeout) const;
    /// "hydra-queue-runner: running (pid N)" or "...: stopped", per installed daemon.
    std::vector<std::string> status() const;

    /// Whether `program` is running (its pid file names a live process).
    bool running(const std::string& program) const { return runningPid(program) != 0; }
    /// The daemons whose programs are installed in binDir, in the order they start.
    std::vector<std::string> installed() const;

    /// The directory of the running program (where its sibling daemons are installed).
    static std::string selfDir();

private:
    std::string pidFile(const std::string& program) const;
    int runningPid(const std::string& program) const; ///< 0 when not running

    std::string dataDir_;
    std::string binDir_;
};

} // namespace hydra::cli

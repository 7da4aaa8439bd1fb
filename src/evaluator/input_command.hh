#pragma once
// Runs the external commands that fetch inputs (git, nix-store, nix) so that each one ends
// when its time is up or the evaluator is asked to stop.

#include "util/error.hh"
#include "util/process.hh"

#include <chrono>
#include <stop_token>
#include <string>

namespace hydra::evaluator {

/// A command was killed because a stop was requested while it ran.
class CommandInterrupted : public Error {
public:
    using Error::Error;
};

/// Runs `opts.argv` with stdin empty, capturing stdout and stderr. Kills its process group and
/// throws TimeoutError after `timeout`, or CommandInterrupted once `stop` is requested.
RunResult runCommand(ProcessOptions opts, std::chrono::seconds timeout, const std::stop_token& stop);

/// Like runCommand, but throws Error "<what> failed: <last error lines of stderr>" unless the
/// command exits with 0; returns its stdout.
std::string runCommandChecked(const std::string& what, ProcessOptions opts, std::chrono::seconds timeout,
                              const std::stop_token& stop);

/// The lines of a command's stderr worth quoting in an error: those saying "fatal:" or
/// "error:" (at most three), else the last non-empty line.
std::string errorLines(const std::string& err);

} // namespace hydra::evaluator

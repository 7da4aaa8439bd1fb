#pragma once
// Args: a cursor over a command's arguments, with errors that name the command.

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace hydra::cli {

/// The arguments after the command name, consumed left to right.
class Args {
public:
    Args(std::string command, std::vector<std::string> args)
        : command_(std::move(command)), args_(std::move(args))
    {}

    const std::string& command() const { return command_; }
    bool done() const { return pos_ >= args_.size(); }
    /// The next argument, consumed.
    std::string next();
    /// The value of an option such as `--role R`; throws when it is missing.
    std::string value(const std::string& option);
    /// Throws "unexpected argument" if anything is left.
    void expectEnd() const;

private:
    std::string command_;
    std::vector<std::string> args_;
    size_t pos_ = 0;
};

/// Thrown for wrong usage; main() prints it with the command's usage line.
struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

} // namespace hydra::cli

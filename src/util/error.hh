#pragma once
// Error types shared by every layer: an exception that carries a complete, user-facing message.

#include <fmt/format.h>
#include <stdexcept>
#include <string>

namespace hydra {

/// The one exception type for failures a user must read: the message names the input at fault.
class Error : public std::runtime_error {
public:
    explicit Error(const std::string& msg) : std::runtime_error(msg) {}

    template <typename... Args>
    explicit Error(fmt::format_string<Args...> format, Args&&... args)
        : std::runtime_error(fmt::format(format, std::forward<Args>(args)...))
    {}
};

/// A wait that ran past its deadline (network, pool, child process).
class TimeoutError : public Error {
public:
    using Error::Error;
};

/// Throws Error with strerror(errno) appended; for failed system calls.
[[noreturn]] void throwSysError(const std::string& what);

} // namespace hydra

#pragma once
// AutoFd: an owned file descriptor, plus reads and writes that respect a deadline.

#include <chrono>
#include <string>
#include <string_view>

namespace hydra {

/// Owns one file descriptor and closes it on destruction.
class AutoFd {
public:
    AutoFd() = default;
    explicit AutoFd(int fd) : fd_(fd) {}
    AutoFd(AutoFd&& o) noexcept : fd_(o.release()) {}
    AutoFd& operator=(AutoFd&& o) noexcept;
    AutoFd(const AutoFd&) = delete;
    AutoFd& operator=(const AutoFd&) = delete;
    ~AutoFd() { close(); }

    int get() const { return fd_; }
    explicit operator bool() const { return fd_ >= 0; }
    int release();
    void close();

private:
    int fd_ = -1;
};

using Deadline = std::chrono::steady_clock::time_point;

/// Reads up to n bytes; returns 0 at end of file. Throws TimeoutError naming `what` when
/// nothing arrives before the deadline.
size_t readSome(int fd, char* buf, size_t n, Deadline deadline, std::string_view what);

/// Writes everything or throws; a peer that stops reading fails at the deadline.
void writeAll(int fd, std::string_view data, Deadline deadline, std::string_view what);

/// Reads until end of file or deadline.
std::string readAll(int fd, Deadline deadline, std::string_view what);

/// Creates a pipe with both ends close-on-exec: [0] read, [1] write.
std::pair<AutoFd, AutoFd> makePipe();

} // namespace hydra

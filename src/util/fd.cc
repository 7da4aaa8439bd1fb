#include "util/fd.hh"

#include "util/error.hh"

#include <cerrno>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

namespace hydra {

AutoFd& AutoFd::operator=(AutoFd&& o) noexcept
{
    if (this != &o) {
        close();
        fd_ = o.release();
    }
    return *this;
}

int AutoFd::release()
{
    int fd = fd_;
    fd_ = -1;
    return fd;
}

void AutoFd::close()
{
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
}

namespace {

// Waits until fd is ready for `events` or the deadline passes.
void waitReady(int fd, short events, Deadline deadline, std::string_view what)
{
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline -
                                                                          std::chrono::steady_clock::now());
        if (left.count() <= 0) throw TimeoutError("timed out waiting for {}", what);
        pollfd p{fd, events, 0};
        int r = ::poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), 60'000)));
        if (r > 0) return;
        if (r < 0 && errno != EINTR) throwSysError(fmt::format("poll on {}", what));
    }
}

} // namespace

size_t readSome(int fd, char* buf, size_t n, Deadline deadline, std::string_view what)
{
    for (;;) {
        waitReady(fd, POLLIN, deadline, what);
        ssize_t r = ::read(fd, buf, n);
        if (r >= 0) return static_cast<size_t>(r);
        if (errno != EINTR && errno != EAGAIN) throwSysError(fmt::format("reading {}", what));
    }
}

void writeAll(int fd, std::string_view data, Deadline deadline, std::string_view what)
{
    while (!data.empty()) {
        waitReady(fd, POLLOUT, deadline, what);
        ssize_t r = ::write(fd, data.data(), data.size());
        if (r < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            throwSysError(fmt::format("writing {}", what));
        }
        data.remove_prefix(static_cast<size_t>(r));
    }
}

std::string readAll(int fd, Deadline deadline, std::string_view what)
{
    std::string out;
    char buf[65536];
    while (size_t n = readSome(fd, buf, sizeof buf, deadline, what)) out.append(buf, n);
    return out;
}

std::pair<AutoFd, AutoFd> makePipe()
{
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throwSysError("creating a pipe");
    return {AutoFd(fds[0]), AutoFd(fds[1])};
}

} // namespace hydra

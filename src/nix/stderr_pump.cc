#include "nix/stderr_pump.hh"

#include "util/logging.hh"

#include <cerrno>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>
#include <vector>

namespace hydra::nix {

namespace {

// Enough for the last lines of any error; the full log goes to the sink.
constexpr size_t tailBytes = size_t{16} * 1024;
// How often the reader looks at its stop token while the pipe is quiet.
constexpr int pollMillis = 100;

std::vector<std::string> nonEmptyLines(const std::string& text)
{
    std::vector<std::string> lines;
    std::string cur;
    for (char c : text) {
        if (c == '\n') {
            if (!cur.empty()) lines.push_back(std::move(cur));
            cur.clear();
        } else if (static_cast<unsigned char>(c) >= 0x20 || c == '\t') {
            cur += c; // drops \r and terminal escapes' control bytes
        }
    }
    if (!cur.empty()) lines.push_back(std::move(cur));
    return lines;
}

} // namespace

namespace {

// Non-blocking, so that whoever reads (the thread or drain()) never blocks holding the lock
// after the other one took the bytes that poll() announced.
int nonBlocking(int fd)
{
    int flags = ::fcntl(fd, F_GETFL);
    if (flags >= 0) ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    return fd;
}

} // namespace

StderrPump::StderrPump(int fd, std::function<void(std::string_view)> sink)
    : fd_(nonBlocking(fd)), sink_(std::move(sink)), thread_([this](const std::stop_token& st) { run(st); })
{}

bool StderrPump::readAvailable()
{
    char buf[8192];
    for (;;) {
        ssize_t n = ::read(fd_, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) return true;
        if (n <= 0) return false;
        record(std::string_view(buf, static_cast<size_t>(n)));
    }
}

void StderrPump::run(const std::stop_token& stop)
{
    while (!stop.stop_requested()) {
        pollfd p{fd_, POLLIN, 0};
        int r = ::poll(&p, 1, pollMillis);
        if (r == 0 || (r < 0 && errno == EINTR)) continue;
        if (r < 0) break;
        std::lock_guard lock(deliver_);
        if (!readAvailable()) break;
    }
    state_.lock()->ended = true;
    endedCv_.notify_all();
}

void StderrPump::setSink(std::function<void(std::string_view)> sink)
{
    std::lock_guard lock(deliver_);
    sink_ = std::move(sink);
}

void StderrPump::drain(std::chrono::milliseconds quiet)
{
    auto until = std::chrono::steady_clock::now() + 10 * quiet;
    std::lock_guard lock(deliver_);
    for (;;) {
        if (!readAvailable()) return;
        auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
        if (left.count() <= 0) return;
        pollfd p{fd_, POLLIN, 0};
        int r = ::poll(&p, 1, static_cast<int>(std::min(quiet, left).count()));
        if (r <= 0 && !(r < 0 && errno == EINTR)) return;
    }
}

void StderrPump::clearTail()
{
    state_.lock()->tail.clear();
}

void StderrPump::record(std::string_view chunk)
{
    {
        auto s = state_.lock();
        s->tail.append(chunk);
        if (s->tail.size() > tailBytes) s->tail.erase(0, s->tail.size() - tailBytes);
    }
    if (!sink_) return;
    try {
        sink_(chunk);
    } catch (const std::exception& e) {
        // The log reader must keep draining, or the child would block on a full pipe.
        log::warn("log sink failed: {}", e.what());
    }
}

bool StderrPump::waitForEnd(std::chrono::milliseconds timeout)
{
    return state_.lock().waitFor(endedCv_, timeout, [](const State& s) { return s.ended; });
}

std::string StderrPump::tail(size_t lines) const
{
    auto all = nonEmptyLines(state_.lock()->tail);
    size_t from = all.size() > lines ? all.size() - lines : 0;
    std::string out;
    for (size_t i = from; i < all.size(); ++i) out += (out.empty() ? "" : "; ") + all[i];
    return out;
}

void StderrPump::stop()
{
    thread_.request_stop();
    if (thread_.joinable()) thread_.join();
}

} // namespace hydra::nix

#include "queue-runner/build_log.hh"

#include "util/error.hh"
#include "util/logging.hh"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <system_error>
#include <unistd.h>

namespace hydra::qr {

BuildLog::BuildLog(std::filesystem::path path) : path_(std::move(path))
{
    std::error_code ec;
    std::filesystem::create_directories(path_.parent_path(), ec);
    if (ec) throw Error("cannot create log directory ‘{}’: {}", path_.parent_path().string(), ec.message());
    int fd = ::open(path_.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
    if (fd < 0) throwSysError(fmt::format("cannot create log file ‘{}’", path_.string()));
    state_.lock()->fd = AutoFd(fd);
}

BuildLog::~BuildLog()
{
    close();
}

void BuildLog::append(std::string_view chunk)
{
    auto s = state_.lock();
    if (!s->fd || s->failed) return;
    while (!chunk.empty()) {
        ssize_t n = ::write(s->fd.get(), chunk.data(), chunk.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            s->failed = true;
            log::warn("cannot write log file ‘{}’: {}; the rest of its log is lost", path_.string(),
                      std::strerror(errno));
            return;
        }
        chunk.remove_prefix(static_cast<size_t>(n));
        s->size += static_cast<uint64_t>(n);
    }
}

void BuildLog::truncate()
{
    auto s = state_.lock();
    if (!s->fd) return;
    if (::ftruncate(s->fd.get(), 0) != 0 || ::lseek(s->fd.get(), 0, SEEK_SET) != 0)
        throwSysError(fmt::format("cannot truncate log file ‘{}’", path_.string()));
    s->size = 0;
}

void BuildLog::close()
{
    state_.lock()->fd.close();
}

void BuildLog::remove()
{
    close();
    std::error_code ec;
    std::filesystem::remove(path_, ec);
}

nix::LogSink BuildLog::sink()
{
    return [this](std::string_view chunk) { append(chunk); };
}

uint64_t BuildLog::size()
{
    return state_.lock()->size;
}

} // namespace hydra::qr

#include "server/log_reader.hh"

#include "util/error.hh"
#include "util/fd.hh"

#include <array>
#include <bzlib.h>
#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>
#include <zstd.h>

namespace hydra::server {

namespace {

constexpr size_t chunkSize = size_t{64} * 1024;

size_t readFd(int fd, char* buf, size_t n, const std::filesystem::path& path)
{
    for (;;) {
        ssize_t got = ::read(fd, buf, n);
        if (got >= 0) return static_cast<size_t>(got);
        if (errno != EINTR) throwSysError("cannot read log file ‘" + path.string() + "’");
    }
}

/// The common part: the open file and its size.
class FileLog : public LogReader {
public:
    FileLog(AutoFd fd, std::filesystem::path path) : fd_(std::move(fd)), path_(std::move(path))
    {
        struct stat st {};
        if (::fstat(fd_.get(), &st) != 0) throwSysError("cannot stat log file ‘" + path_.string() + "’");
        size_ = static_cast<uint64_t>(st.st_size);
    }
    uint64_t fileSize() const override { return size_; }
    bool seek(uint64_t) override { return false; }

protected:
    size_t readRaw(char* buf, size_t n) { return readFd(fd_.get(), buf, n, path_); }
    [[noreturn]] void corrupt(const std::string& why) const
    {
        throw Error("log file ‘{}’ is corrupt: {}", path_.string(), why);
    }

    AutoFd fd_;
    std::filesystem::path path_;
    uint64_t size_ = 0;
};

/// A log as the queue runner writes it; a running step's log is read as far as written.
class PlainLog : public FileLog {
public:
    using FileLog::FileLog;
    size_t read(char* buf, size_t n) override { return readRaw(buf, n); }
    bool seek(uint64_t offset) override
    {
        if (::lseek(fd_.get(), static_cast<off_t>(offset), SEEK_SET) < 0)
            throwSysError("cannot seek in log file ‘" + path_.string() + "’");
        return true;
    }
};

/// A compressed log: refills an input buffer from the file and decodes from it.
class CompressedLog : public FileLog {
public:
    using FileLog::FileLog;

protected:
    /// Refills the input when it is used up; false at the end of the file.
    bool refill()
    {
        if (pos_ < len_) return true;
        pos_ = 0;
        len_ = readRaw(in_.data(), in_.size());
        return len_ > 0;
    }
    std::array<char, chunkSize> in_{};
    size_t pos_ = 0, len_ = 0;
};

class Bzip2Log : public CompressedLog {
public:
    Bzip2Log(AutoFd fd, std::filesystem::path path) : CompressedLog(std::move(fd), std::move(path))
    {
        init();
    }
    ~Bzip2Log() override { BZ2_bzDecompressEnd(&s_); }
    Bzip2Log(const Bzip2Log&) = delete;
    Bzip2Log& operator=(const Bzip2Log&) = delete;

    size_t read(char* buf, size_t n) override
    {
        auto want = static_cast<unsigned>(std::min<size_t>(n, chunkSize));
        for (;;) {
            if (!refill()) {
                if (inStream_) corrupt("it ends within a bzip2 stream");
                return 0;
            }
            s_.next_in = in_.data() + pos_;
            s_.avail_in = static_cast<unsigned>(len_ - pos_);
            s_.next_out = buf;
            s_.avail_out = want;
            inStream_ = true;
            int rc = BZ2_bzDecompress(&s_);
            pos_ = len_ - s_.avail_in;
            size_t produced = want - s_.avail_out;
            if (rc == BZ_STREAM_END) {
                // bzip2 files may hold several streams one after the other.
                BZ2_bzDecompressEnd(&s_);
                init();
            } else if (rc != BZ_OK) {
                corrupt("bzip2 error " + std::to_string(rc));
            }
            if (produced > 0) return produced;
        }
    }

private:
    void init()
    {
        s_ = bz_stream{};
        if (BZ2_bzDecompressInit(&s_, 0, 0) != BZ_OK) throw Error("cannot start bzip2 decompression");
        inStream_ = false;
    }
    bz_stream s_{};
    bool inStream_ = false;
};

class ZstdLog : public CompressedLog {
public:
    ZstdLog(AutoFd fd, std::filesystem::path path)
        : CompressedLog(std::move(fd), std::move(path)), ctx_(ZSTD_createDCtx())
    {
        if (!ctx_) throw Error("cannot start zstd decompression");
    }
    ~ZstdLog() override { ZSTD_freeDCtx(ctx_); }
    ZstdLog(const ZstdLog&) = delete;
    ZstdLog& operator=(const ZstdLog&) = delete;

    size_t read(char* buf, size_t n) override
    {
        ZSTD_outBuffer out{buf, std::min(n, chunkSize), 0};
        while (out.pos == 0) {
            if (!refill()) {
                if (pending_ != 0) corrupt("it ends within a zstd frame");
                return 0;
            }
            ZSTD_inBuffer in{in_.data(), len_, pos_};
            pending_ = ZSTD_decompressStream(ctx_, &out, &in);
            if (ZSTD_isError(pending_)) corrupt(ZSTD_getErrorName(pending_));
            pos_ = in.pos;
        }
        return out.pos;
    }

private:
    ZSTD_DCtx* ctx_;
    size_t pending_ = 0; ///< non-zero while a frame is incomplete
};

std::unique_ptr<LogReader> openAs(const std::filesystem::path& path, int which)
{
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        if (errno == ENOENT) return nullptr;
        throwSysError("cannot open log file ‘" + path.string() + "’");
    }
    AutoFd owned(fd);
    if (which == 0) return std::make_unique<PlainLog>(std::move(owned), path);
    if (which == 1) return std::make_unique<ZstdLog>(std::move(owned), path);
    return std::make_unique<Bzip2Log>(std::move(owned), path);
}

} // namespace

std::unique_ptr<LogReader> LogReader::open(const std::filesystem::path& logPath)
{
    int which = 0;
    for (const char* suffix : {"", ".zst", ".bz2"}) {
        auto path = logPath;
        path += suffix;
        if (auto log = openAs(path, which++)) return log;
    }
    return nullptr;
}

LogEnd readLogEnd(LogReader& log, size_t maxBytes)
{
    LogEnd end;
    if (log.fileSize() > maxBytes && log.seek(log.fileSize() - maxBytes)) end.cut = true;
    std::vector<char> buf(chunkSize);
    while (size_t n = log.read(buf.data(), buf.size())) {
        end.text.append(buf.data(), n);
        if (end.text.size() > 2 * maxBytes) {
            end.text.erase(0, end.text.size() - maxBytes);
            end.cut = true;
        }
    }
    if (end.text.size() > maxBytes) {
        end.text.erase(0, end.text.size() - maxBytes);
        end.cut = true;
    }
    return end;
}

std::string_view lastLines(std::string_view text, size_t lines)
{
    size_t end = text.size();
    if (end > 0 && text[end - 1] == '\n') --end;
    size_t pos = end;
    for (size_t found = 0; pos > 0; --pos)
        if (text[pos - 1] == '\n' && ++found == lines) break;
    return text.substr(pos);
}

void streamLog(LogReader& log, const BodyWriter& out)
{
    std::vector<char> buf(chunkSize);
    while (size_t n = log.read(buf.data(), buf.size()))
        if (!out(std::string_view(buf.data(), n))) return;
}

} // namespace hydra::server

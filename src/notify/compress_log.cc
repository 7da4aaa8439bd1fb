#include "notify/compress_log.hh"

#include "util/error.hh"
#include "util/fd.hh"
#include "util/logging.hh"

#include <array>
#include <bzlib.h>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <fcntl.h>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>
#include <zstd.h>

namespace hydra::notify {

namespace fs = std::filesystem;

namespace {

constexpr size_t chunkSize = size_t{256} * 1024;

void writeFully(int fd, const char* data, size_t n, const fs::path& file)
{
    while (n > 0) {
        ssize_t w = ::write(fd, data, n);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) throwSysError(fmt::format("writing ‘{}’", file.string()));
        data += w;
        n -= static_cast<size_t>(w);
    }
}

/// A streaming compressor writing to a file descriptor.
class Compressor {
public:
    virtual ~Compressor() = default;
    /// Compresses `n` bytes; `last` flushes the end of the stream.
    virtual void feed(const char* data, size_t n, bool last) = 0;
};

/// bzip2 at block size 900k, as the bzip2 program writes by default.
class Bzip2Compressor : public Compressor {
public:
    Bzip2Compressor(int fd, fs::path file) : fd_(fd), file_(std::move(file))
    {
        if (BZ2_bzCompressInit(&s_, 9, 0, 0) != BZ_OK)
            throw Error("cannot start bzip2 compression for ‘{}’", file_.string());
    }
    ~Bzip2Compressor() override { BZ2_bzCompressEnd(&s_); }
    Bzip2Compressor(const Bzip2Compressor&) = delete;
    Bzip2Compressor& operator=(const Bzip2Compressor&) = delete;

    void feed(const char* data, size_t n, bool last) override
    {
        // bzip2's API takes unsigned int lengths; chunks are far smaller than that.
        s_.next_in = const_cast<char*>(
            data); // NOLINT(cppcoreguidelines-pro-type-const-cast): bzlib never writes input
        s_.avail_in = static_cast<unsigned>(n);
        for (;;) {
            s_.next_out = out_.data();
            s_.avail_out = static_cast<unsigned>(out_.size());
            int r = BZ2_bzCompress(&s_, last ? BZ_FINISH : BZ_RUN);
            if (r != BZ_RUN_OK && r != BZ_FINISH_OK && r != BZ_STREAM_END)
                throw Error("bzip2 compression of ‘{}’ failed (error {})", file_.string(), r);
            writeFully(fd_, out_.data(), out_.size() - s_.avail_out, file_);
            if (last ? r == BZ_STREAM_END : s_.avail_in == 0) return;
        }
    }

private:
    int fd_;
    fs::path file_;
    bz_stream s_{};
    std::vector<char> out_ = std::vector<char>(chunkSize);
};

/// zstd at its default level, with a checksum as the zstd program writes.
class ZstdCompressor : public Compressor {
public:
    ZstdCompressor(int fd, fs::path file) : fd_(fd), file_(std::move(file)), cctx_(ZSTD_createCCtx())
    {
        if (!cctx_ || ZSTD_isError(ZSTD_CCtx_setParameter(cctx_, ZSTD_c_checksumFlag, 1)))
            throw Error("cannot start zstd compression for ‘{}’", file_.string());
    }
    ~ZstdCompressor() override { ZSTD_freeCCtx(cctx_); }
    ZstdCompressor(const ZstdCompressor&) = delete;
    ZstdCompressor& operator=(const ZstdCompressor&) = delete;

    void feed(const char* data, size_t n, bool last) override
    {
        ZSTD_inBuffer in{data, n, 0};
        for (;;) {
            ZSTD_outBuffer out{out_.data(), out_.size(), 0};
            size_t left = ZSTD_compressStream2(cctx_, &out, &in, last ? ZSTD_e_end : ZSTD_e_continue);
            if (ZSTD_isError(left))
                throw Error("zstd compression of ‘{}’ failed: {}", file_.string(), ZSTD_getErrorName(left));
            writeFully(fd_, out_.data(), out.pos, file_);
            if (last ? left == 0 : in.pos == in.size) return;
        }
    }

private:
    int fd_;
    fs::path file_;
    ZSTD_CCtx* cctx_;
    std::vector<char> out_ = std::vector<char>(ZSTD_CStreamOutSize());
};

std::unique_ptr<Compressor> makeCompressor(LogCompression method, int fd, const fs::path& file)
{
    if (method == LogCompression::Zstd) return std::make_unique<ZstdCompressor>(fd, file);
    return std::make_unique<Bzip2Compressor>(fd, file);
}

/// A temporary file next to the target that is removed unless committed.
class TempFile {
public:
    explicit TempFile(const fs::path& target) : path_(target.string() + ".tmp-XXXXXX")
    {
        std::string tmpl = path_.string();
        fd_ = AutoFd(::mkostemp(tmpl.data(), O_CLOEXEC));
        if (!fd_) throwSysError(fmt::format("creating a temporary file next to ‘{}’", target.string()));
        path_ = tmpl;
    }
    ~TempFile()
    {
        if (!committed_) ::unlink(path_.c_str());
    }
    TempFile(const TempFile&) = delete;
    TempFile& operator=(const TempFile&) = delete;

    int fd() const { return fd_.get(); }
    const fs::path& path() const { return path_; }

    /// Makes the content durable and moves it to `target`.
    void commit(const fs::path& target)
    {
        if (::fsync(fd_.get()) != 0) throwSysError(fmt::format("fsync of ‘{}’", path_.string()));
        fd_.close();
        if (::rename(path_.c_str(), target.c_str()) != 0)
            throwSysError(fmt::format("renaming ‘{}’ to ‘{}’", path_.string(), target.string()));
        committed_ = true;
    }

private:
    fs::path path_;
    AutoFd fd_;
    bool committed_ = false;
};

void syncDirectory(const fs::path& dir)
{
    AutoFd d(::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!d || ::fsync(d.get()) != 0) throwSysError(fmt::format("fsync of directory ‘{}’", dir.string()));
}

void compressStream(int in, Compressor& c, const fs::path& log)
{
    std::vector<char> buf(chunkSize);
    for (;;) {
        ssize_t n = ::read(in, buf.data(), buf.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throwSysError(fmt::format("reading ‘{}’", log.string()));
        c.feed(buf.data(), static_cast<size_t>(n), n == 0);
        if (n == 0) return;
    }
}

} // namespace

const char* compressedSuffix(LogCompression method)
{
    return method == LogCompression::Zstd ? ".zst" : ".bz2";
}

std::optional<fs::path> compressLogFile(const fs::path& log, LogCompression method)
{
    // O_NOFOLLOW: a symlink planted in place of a log must not make us read (and delete) elsewhere.
    AutoFd in(::open(log.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!in && errno == ENOENT) return std::nullopt;
    if (!in) throwSysError(fmt::format("opening build log ‘{}’", log.string()));
    struct stat st {};
    if (::fstat(in.get(), &st) != 0) throwSysError(fmt::format("stat of ‘{}’", log.string()));
    if (!S_ISREG(st.st_mode)) throw Error("build log ‘{}’ is not a regular file", log.string());

    fs::path target = log.string() + compressedSuffix(method);
    TempFile tmp(target);
    // Keep the log's permissions: the web server reads the compressed file as it read the log.
    if (::fchmod(tmp.fd(), st.st_mode & 07777) != 0)
        throwSysError(fmt::format("chmod of ‘{}’", tmp.path().string()));
    {
        auto c = makeCompressor(method, tmp.fd(), tmp.path());
        compressStream(in.get(), *c, log);
    }
    tmp.commit(target);
    syncDirectory(log.parent_path());
    if (::unlink(log.c_str()) != 0 && errno != ENOENT)
        throwSysError(fmt::format("removing ‘{}’", log.string()));
    return target;
}

void CompressLog::handle(const Event& event, const PluginContext& /*ctx*/)
{
    std::string log = event.logPath();
    if (log.empty()) return; // the step kept no log
    log::Context where{event.buildId(), event.stepNr(), {}};
    if (!silent_) log::event(log::Level::Info, where, "compressing ‘{}’", log);
    auto done = compressLogFile(log, method_);
    if (!done) log::event(log::Level::Debug, where, "no log ‘{}’ to compress (already compressed?)", log);
}

std::unique_ptr<Plugin> makeCompressLog(const HydraConfig& config)
{
    if (!config.notify.compressBuildLogs) return nullptr;
    return std::make_unique<CompressLog>(config.notify.compression, config.notify.compressBuildLogsSilent);
}

} // namespace hydra::notify

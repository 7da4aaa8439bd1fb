#include "server/nar_stream.hh"

#include "nix/nar.hh"
#include "util/error.hh"

#include <lzma.h>
#include <memory>
#include <zstd.h>

namespace hydra::server {

namespace {

constexpr size_t chunkSize = size_t{64} * 1024;

// A Sink that compresses what it is given and sends full chunks to the client.
class CompressingSink : public nix::Sink {
public:
    CompressingSink(NarCompression c, const BodyWriter& out, std::string path)
        : c_(c), out_(out), path_(std::move(path)), buf_(chunkSize, '\0')
    {
        if (c_ == NarCompression::Zstd) {
            zstd_ = ZSTD_createCCtx();
            if (!zstd_) throw Error("cannot start zstd compression");
            ZSTD_CCtx_setParameter(zstd_, ZSTD_c_compressionLevel, 1);
        } else if (c_ == NarCompression::Xz) {
            if (lzma_easy_encoder(&xz_, 6, LZMA_CHECK_CRC64) != LZMA_OK)
                throw Error("cannot start xz compression");
        }
    }
    ~CompressingSink() override
    {
        ZSTD_freeCCtx(zstd_);
        lzma_end(&xz_);
    }
    CompressingSink(const CompressingSink&) = delete;
    CompressingSink& operator=(const CompressingSink&) = delete;

    void write(std::string_view data) override
    {
        if (c_ == NarCompression::None) return send(data);
        if (c_ == NarCompression::Zstd) return zstd(data, ZSTD_e_continue);
        xz(data, LZMA_RUN);
    }

    /// Ends the compressed stream and sends what is left.
    void finish()
    {
        if (c_ == NarCompression::Zstd) zstd({}, ZSTD_e_end);
        if (c_ == NarCompression::Xz) xz({}, LZMA_FINISH);
    }

private:
    void send(std::string_view data)
    {
        if (!data.empty() && !out_(data)) throw Error("the client stopped reading the NAR of {}", path_);
    }

    void zstd(std::string_view data, ZSTD_EndDirective mode)
    {
        ZSTD_inBuffer in{data.data(), data.size(), 0};
        for (;;) {
            ZSTD_outBuffer o{buf_.data(), buf_.size(), 0};
            size_t left = ZSTD_compressStream2(zstd_, &o, &in, mode);
            if (ZSTD_isError(left))
                throw Error("zstd compression of {} failed: {}", path_, ZSTD_getErrorName(left));
            send(std::string_view(buf_.data(), o.pos));
            bool done = mode == ZSTD_e_end ? left == 0 : in.pos == in.size;
            if (done) return;
        }
    }

    void xz(std::string_view data, lzma_action action)
    {
        xz_.next_in = reinterpret_cast<const uint8_t*>(data.data());
        xz_.avail_in = data.size();
        for (;;) {
            xz_.next_out = reinterpret_cast<uint8_t*>(buf_.data());
            xz_.avail_out = buf_.size();
            lzma_ret rc = lzma_code(&xz_, action);
            if (rc != LZMA_OK && rc != LZMA_STREAM_END)
                throw Error("xz compression of {} failed ({})", path_, static_cast<int>(rc));
            send(std::string_view(buf_.data(), buf_.size() - xz_.avail_out));
            if (rc == LZMA_STREAM_END || (action == LZMA_RUN && xz_.avail_in == 0)) return;
        }
    }

    NarCompression c_;
    const BodyWriter& out_;
    std::string path_;
    std::string buf_;
    ZSTD_CCtx* zstd_ = nullptr;
    lzma_stream xz_ = LZMA_STREAM_INIT;
};

// Gathers small NAR pieces (headers, padding) into chunks before compressing them.
class ChunkingSink : public nix::Sink {
public:
    explicit ChunkingSink(CompressingSink& next) : next_(next) { buf_.reserve(chunkSize); }
    void write(std::string_view data) override
    {
        if (buf_.size() + data.size() > chunkSize) flush();
        if (data.size() >= chunkSize)
            next_.write(data);
        else
            buf_.append(data);
    }
    void flush() override
    {
        next_.write(buf_);
        buf_.clear();
    }

private:
    CompressingSink& next_;
    std::string buf_;
};

} // namespace

std::string_view compressionName(NarCompression c)
{
    return c == NarCompression::Zstd ? "zstd" : c == NarCompression::Xz ? "xz" : "none";
}

std::string_view compressionExtension(NarCompression c)
{
    return c == NarCompression::Zstd ? ".zst" : c == NarCompression::Xz ? ".xz" : "";
}

void streamNar(const std::string& path, NarCompression c, const BodyWriter& out)
{
    CompressingSink compress(c, out, path);
    ChunkingSink chunks(compress);
    nix::dumpPath(path, chunks);
    chunks.flush();
    compress.finish();
}

} // namespace hydra::server

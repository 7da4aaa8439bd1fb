#include "nix/wire.hh"

#include "util/error.hh"

#include <algorithm>
#include <cstring>

namespace hydra::nix {

namespace {

constexpr size_t bufferSize = size_t{64} * 1024;

Deadline deadlineIn(std::chrono::milliseconds t)
{
    return std::chrono::steady_clock::now() + t;
}

} // namespace

FdSource::FdSource(int fd, std::string name, std::chrono::milliseconds readTimeout)
    : fd_(fd), name_(std::move(name)), timeout_(readTimeout), buf_(bufferSize)
{}

size_t FdSource::readSome(char* buf, size_t n)
{
    if (pos_ == end_) {
        // Large reads bypass the buffer; small ones refill it to save system calls.
        if (n >= buf_.size()) return hydra::readSome(fd_, buf, n, deadlineIn(timeout_), name_);
        pos_ = 0;
        end_ = hydra::readSome(fd_, buf_.data(), buf_.size(), deadlineIn(timeout_), name_);
        if (end_ == 0) return 0;
    }
    size_t k = std::min(n, end_ - pos_);
    std::memcpy(buf, buf_.data() + pos_, k);
    pos_ += k;
    return k;
}

FdSink::FdSink(int fd, std::string name, std::chrono::milliseconds writeTimeout)
    : fd_(fd), name_(std::move(name)), timeout_(writeTimeout)
{}

void FdSink::write(std::string_view data)
{
    if (buf_.size() + data.size() > bufferSize) {
        flush();
        if (data.size() >= bufferSize) {
            writeAll(fd_, data, deadlineIn(timeout_), name_);
            return;
        }
    }
    buf_.append(data);
}

void FdSink::flush()
{
    if (buf_.empty()) return;
    // Clear first: after a failed write the stream is broken anyway, and the destructor
    // of a half-written sink must not try again.
    std::string pending = std::move(buf_);
    buf_.clear();
    writeAll(fd_, pending, deadlineIn(timeout_), name_);
}

size_t StringSource::readSome(char* buf, size_t n)
{
    size_t k = std::min(n, data_.size() - pos_);
    std::memcpy(buf, data_.data() + pos_, k);
    pos_ += k;
    return k;
}

size_t TeeSource::readSome(char* buf, size_t n)
{
    size_t k = from_.readSome(buf, n);
    if (k > 0) copy_.write(std::string_view(buf, k));
    return k;
}

std::string printable(std::string_view s, size_t maxLength)
{
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        if (i == maxLength) return out + "...";
        auto c = static_cast<unsigned char>(s[i]);
        if (c >= 0x20 && c < 0x7f && c != '\\')
            out += static_cast<char>(c);
        else
            out += fmt::format("\\x{:02x}", c);
    }
    return out;
}

void readExact(Source& in, char* buf, size_t n, std::string_view what)
{
    while (n > 0) {
        size_t k = in.readSome(buf, n);
        if (k == 0) throw Error("unexpected end of {} while reading {}", in.describe(), what);
        buf += k;
        n -= k;
    }
}

void readPadding(Source& in, uint64_t len, std::string_view what)
{
    size_t pad = static_cast<size_t>((8 - len % 8) % 8);
    if (pad == 0) return;
    char zeros[8];
    readExact(in, zeros, pad, what);
    for (size_t i = 0; i < pad; ++i)
        if (zeros[i] != 0) throw Error("non-zero padding after {} from {}", what, in.describe());
}

void writePadding(Sink& out, uint64_t len)
{
    static constexpr char zeros[8] = {};
    size_t pad = static_cast<size_t>((8 - len % 8) % 8);
    if (pad > 0) out.write(std::string_view(zeros, pad));
}

void writeU64(Sink& out, uint64_t n)
{
    char buf[8];
    for (size_t i = 0; i < 8; ++i) buf[i] = static_cast<char>((n >> (8 * i)) & 0xff);
    out.write(std::string_view(buf, 8));
}

uint64_t readU64(Source& in, std::string_view what)
{
    unsigned char buf[8];
    readExact(in, reinterpret_cast<char*>(buf), 8, what);
    uint64_t n = 0;
    for (size_t i = 0; i < 8; ++i) n |= uint64_t{buf[i]} << (8 * i);
    return n;
}

void writeBool(Sink& out, bool b)
{
    writeU64(out, b ? 1 : 0);
}

bool readBool(Source& in, std::string_view what)
{
    uint64_t n = readU64(in, what);
    if (n > 1) throw Error("{} from {} is {}, not a boolean (0 or 1)", what, in.describe(), n);
    return n == 1;
}

void writeString(Sink& out, std::string_view s)
{
    writeU64(out, s.size());
    out.write(s);
    writePadding(out, s.size());
}

std::string readString(Source& in, std::string_view what, uint64_t maxLength)
{
    uint64_t len = readU64(in, what);
    if (len > maxLength)
        throw Error("{} from {} is {} bytes long, more than the limit of {}", what, in.describe(), len,
                    maxLength);
    // Grow with the data actually received, so a length alone cannot make us allocate much.
    constexpr size_t step = size_t{1024} * 1024;
    std::string s;
    while (s.size() < len) {
        size_t have = s.size();
        s.resize(have + static_cast<size_t>(std::min<uint64_t>(len - have, step)));
        readExact(in, s.data() + have, s.size() - have, what);
    }
    readPadding(in, len, what);
    return s;
}

std::vector<std::string> readStrings(Source& in, std::string_view what)
{
    uint64_t count = readU64(in, what);
    // No reserve(count): the count is untrusted; a lie fails at the end of the stream instead.
    std::vector<std::string> out;
    for (uint64_t i = 0; i < count; ++i) out.push_back(readString(in, what));
    return out;
}

std::set<std::string> readStringSet(Source& in, std::string_view what)
{
    uint64_t count = readU64(in, what);
    std::set<std::string> out;
    for (uint64_t i = 0; i < count; ++i) out.insert(readString(in, what));
    return out;
}

} // namespace hydra::nix

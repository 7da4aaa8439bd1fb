#pragma once
// Nix wire primitives: byte sources and sinks, little-endian uint64s, padded strings, string lists.

#include "util/fd.hh"

#include <chrono>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace hydra::nix {

/// Longest string accepted from a peer, except NAR file contents (those are streamed).
constexpr uint64_t maxWireStringLength = uint64_t{64} * 1024 * 1024;

/// A byte stream being read: a pipe from a remote nix-store, a file, a test string.
class Source {
public:
    virtual ~Source() = default;
    /// Reads between 1 and n bytes (n > 0); returns 0 only at the end of the stream.
    virtual size_t readSome(char* buf, size_t n) = 0;
    /// What the stream is, for error messages ("nix-store --serve on builder1").
    virtual std::string describe() const = 0;
};

/// A byte stream being written. Data may be buffered until flush().
class Sink {
public:
    virtual ~Sink() = default;
    virtual void write(std::string_view data) = 0;
    virtual void flush() {}
};

/// Passes writes on to another sink and counts the bytes, to report them or to hold a writer
/// to the size it promised.
class CountingSink : public Sink {
public:
    explicit CountingSink(Sink& to) : to_(to) {}
    void write(std::string_view data) override
    {
        to_.write(data);
        count_ += data.size();
    }
    void flush() override { to_.flush(); }
    uint64_t count() const { return count_; }

private:
    Sink& to_;
    uint64_t count_ = 0;
};

/// Buffered reads from a file descriptor; every read that waits longer than the timeout
/// throws TimeoutError, so a silent peer cannot hang its reader.
class FdSource : public Source {
public:
    FdSource(int fd, std::string name, std::chrono::milliseconds readTimeout);
    size_t readSome(char* buf, size_t n) override;
    std::string describe() const override { return name_; }
    /// Changes the timeout for the following reads (a build may run silently for hours).
    void setReadTimeout(std::chrono::milliseconds t) { timeout_ = t; }
    /// Bytes read from the descriptor and not yet handed out.
    size_t buffered() const { return end_ - pos_; }

private:
    int fd_;
    std::string name_;
    std::chrono::milliseconds timeout_;
    std::vector<char> buf_;
    size_t pos_ = 0, end_ = 0;
};

/// Buffered writes to a file descriptor; a peer that stops reading fails at the timeout.
/// Call flush() before waiting for a reply: the destructor does not flush.
class FdSink : public Sink {
public:
    FdSink(int fd, std::string name, std::chrono::milliseconds writeTimeout);
    void write(std::string_view data) override;
    void flush() override;

private:
    int fd_;
    std::string name_;
    std::chrono::milliseconds timeout_;
    std::string buf_;
};

/// Reads from an in-memory string (tests, fuzzing, small replies).
class StringSource : public Source {
public:
    explicit StringSource(std::string data, std::string name = "in-memory data")
        : data_(std::move(data)), name_(std::move(name))
    {}
    size_t readSome(char* buf, size_t n) override;
    std::string describe() const override { return name_; }
    size_t remaining() const { return data_.size() - pos_; }

private:
    std::string data_;
    std::string name_;
    size_t pos_ = 0;
};

/// Collects everything written into a string.
class StringSink : public Sink {
public:
    void write(std::string_view data) override { data_.append(data); }
    const std::string& data() const { return data_; }
    std::string take() { return std::move(data_); }

private:
    std::string data_;
};

/// A Source that copies every byte it reads into a Sink: validate a stream while forwarding it.
class TeeSource : public Source {
public:
    TeeSource(Source& from, Sink& copy) : from_(from), copy_(copy) {}
    size_t readSome(char* buf, size_t n) override;
    std::string describe() const override { return from_.describe(); }

private:
    Source& from_;
    Sink& copy_;
};

/// Peer data made safe for an error message: control and non-ASCII bytes as \xNN, cut at
/// `maxLength` bytes with "..." appended.
std::string printable(std::string_view s, size_t maxLength = 200);

/// Reads exactly n bytes; a short stream throws "unexpected end of <source> while reading <what>".
void readExact(Source& in, char* buf, size_t n, std::string_view what);

/// Reads and discards the zero padding after `len` bytes of string data; non-zero padding throws.
void readPadding(Source& in, uint64_t len, std::string_view what);
/// Writes the zero padding that follows `len` bytes of string data.
void writePadding(Sink& out, uint64_t len);

void writeU64(Sink& out, uint64_t n);
uint64_t readU64(Source& in, std::string_view what);

/// Booleans travel as uint64 0 or 1; anything else is a protocol error.
void writeBool(Sink& out, bool b);
bool readBool(Source& in, std::string_view what);

/// Length, bytes, zero padding to a multiple of 8.
void writeString(Sink& out, std::string_view s);
std::string readString(Source& in, std::string_view what, uint64_t maxLength = maxWireStringLength);

/// Count followed by that many strings (Nix's Strings, StringSet and StorePathSet).
template <typename Container> void writeStrings(Sink& out, const Container& strings)
{
    writeU64(out, strings.size());
    for (const auto& s : strings) writeString(out, s);
}
std::vector<std::string> readStrings(Source& in, std::string_view what);
/// Like readStrings; duplicates are dropped, as Nix does when it reads a set.
std::set<std::string> readStringSet(Source& in, std::string_view what);

} // namespace hydra::nix

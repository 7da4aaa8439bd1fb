// Wire primitives: golden bytes for integers, padded strings and lists; errors on bad input.

#include "nix/wire.hh"
#include "util/error.hh"

#include "support/golden_bytes.hh"

#include <gtest/gtest.h>

#include <csignal>
#include <thread>

using namespace hydra;
using namespace hydra::nix;
using namespace std::chrono_literals;
using namespace std::string_literals;

using hydra::test::errorOf;

namespace {

/// Hands out at most one byte per read, like a slow pipe.
class TrickleSource : public Source {
public:
    explicit TrickleSource(std::string data) : data_(std::move(data)) {}
    size_t readSome(char* buf, size_t n) override
    {
        if (pos_ == data_.size() || n == 0) return 0;
        *buf = data_[pos_++];
        return 1;
    }
    std::string describe() const override { return "trickle"; }

private:
    std::string data_;
    size_t pos_ = 0;
};

} // namespace

TEST(Wire, U64IsLittleEndian)
{
    StringSink out;
    writeU64(out, 0x0102030405060708);
    writeU64(out, 1);
    EXPECT_EQ(out.data(), "\x08\x07\x06\x05\x04\x03\x02\x01"
                          "\x01\0\0\0\0\0\0\0"s);
    StringSource in(out.data());
    EXPECT_EQ(readU64(in, "n"), 0x0102030405060708u);
    EXPECT_EQ(readU64(in, "n"), 1u);
}

TEST(Wire, StringsArePaddedToEightBytes)
{
    StringSink out;
    writeString(out, "abc");
    writeString(out, "");
    writeString(out, "12345678");
    EXPECT_EQ(out.data(), "\x03\0\0\0\0\0\0\0"
                          "abc\0\0\0\0\0"
                          "\0\0\0\0\0\0\0\0"
                          "\x08\0\0\0\0\0\0\0"
                          "12345678"s);
    TrickleSource in(out.data());
    EXPECT_EQ(readString(in, "s"), "abc");
    EXPECT_EQ(readString(in, "s"), "");
    EXPECT_EQ(readString(in, "s"), "12345678");
}

TEST(Wire, StringListsAndSets)
{
    StringSink out;
    writeStrings(out, std::vector<std::string>{"b", "a"});
    auto golden = "\x02\0\0\0\0\0\0\0"
                  "\x01\0\0\0\0\0\0\0"
                  "b\0\0\0\0\0\0\0"
                  "\x01\0\0\0\0\0\0\0"
                  "a\0\0\0\0\0\0\0"s;
    EXPECT_EQ(out.data(), golden);
    StringSource in1(golden);
    EXPECT_EQ(readStrings(in1, "list"), (std::vector<std::string>{"b", "a"}));
    StringSource in2(golden);
    EXPECT_EQ(readStringSet(in2, "set"), (std::set<std::string>{"a", "b"}));
}

TEST(Wire, BoolsAreZeroOrOne)
{
    StringSink out;
    writeBool(out, true);
    writeBool(out, false);
    EXPECT_EQ(out.data(), "\x01\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"s);
    StringSource in(out.data() + "\x02\0\0\0\0\0\0\0"s);
    EXPECT_TRUE(readBool(in, "flag"));
    EXPECT_FALSE(readBool(in, "flag"));
    EXPECT_EQ(errorOf([&] { readBool(in, "flag"); }),
              "flag from in-memory data is 2, not a boolean (0 or 1)");
}

TEST(Wire, TruncatedStreamSaysUnexpectedEnd)
{
    StringSource in("\x05\0\0\0\0\0\0\0abc"s, "peer");
    EXPECT_EQ(errorOf([&] { readString(in, "a path"); }), "unexpected end of peer while reading a path");
    StringSource half("\x05\0\0"s, "peer");
    EXPECT_EQ(errorOf([&] { readU64(half, "a count"); }), "unexpected end of peer while reading a count");
}

TEST(Wire, NonZeroPaddingIsRejected)
{
    StringSource in("\x03\0\0\0\0\0\0\0abc\0\0\0\x01\0"s, "peer");
    EXPECT_EQ(errorOf([&] { readString(in, "a name"); }), "non-zero padding after a name from peer");
}

TEST(Wire, AbsurdStringLengthIsRejectedBeforeAllocating)
{
    StringSource in("\0\0\0\0\0\x01\0\0"s, "peer"); // 2^40 bytes
    EXPECT_EQ(errorOf([&] { readString(in, "a name"); }),
              "a name from peer is 1099511627776 bytes long, more than the limit of 67108864");
    StringSource small("\x09\0\0\0\0\0\0\0"s, "peer");
    EXPECT_EQ(errorOf([&] { readString(small, "a tag", 8); }),
              "a tag from peer is 9 bytes long, more than the limit of 8");
}

TEST(Wire, TeeSourceCopiesWhatIsRead)
{
    StringSource in("\x01\0\0\0\0\0\0\0xyz"s);
    StringSink copy;
    TeeSource tee(in, copy);
    EXPECT_EQ(readU64(tee, "n"), 1u);
    EXPECT_EQ(copy.data(), "\x01\0\0\0\0\0\0\0"s);
    EXPECT_EQ(in.remaining(), 3u);
}

TEST(WireFd, SilentPeerTimesOutAtTheDeadline)
{
    auto [r, w] = makePipe(); // nobody writes to w
    FdSource in(r.get(), "silent builder", 100ms);
    try {
        readU64(in, "a reply");
        FAIL() << "read returned";
    } catch (const TimeoutError& e) {
        EXPECT_NE(std::string(e.what()).find("silent builder"), std::string::npos) << e.what();
    }
}

TEST(WireFd, WritesAreBufferedUntilFlush)
{
    std::signal(SIGPIPE, SIG_IGN);
    auto [r, w] = makePipe();
    FdSink out(w.get(), "pipe", 5s);
    writeString(out, "hello");
    char c;
    EXPECT_THROW(::hydra::readSome(r.get(), &c, 1, std::chrono::steady_clock::now() + 10ms, "pipe"),
                 TimeoutError);
    out.flush();
    FdSource in(r.get(), "pipe", 5s);
    EXPECT_EQ(readString(in, "greeting"), "hello");
}

TEST(WireFd, FlushDeliversAndClosedWriterIsEndOfStream)
{
    std::signal(SIGPIPE, SIG_IGN);
    auto [r, w] = makePipe();
    {
        FdSink out(w.get(), "pipe", 5s);
        writeString(out, "hello");
        writeU64(out, 42);
        out.flush();
        w.close();
    }
    FdSource in(r.get(), "the builder's stdout", 5s);
    EXPECT_EQ(readString(in, "greeting"), "hello");
    EXPECT_EQ(readU64(in, "answer"), 42u);
    EXPECT_EQ(errorOf([&] { readU64(in, "a reply"); }),
              "unexpected end of the builder's stdout while reading a reply");
}

TEST(WireFd, LargeWritesAndReadsCrossTheBuffers)
{
    std::signal(SIGPIPE, SIG_IGN);
    auto [r, w] = makePipe();
    std::string big(300 * 1024, 'x');
    for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
    std::jthread writer([&, fd = w.get()] {
        FdSink out(fd, "pipe", 5s);
        writeString(out, "small");
        writeString(out, big);
        out.flush();
    });
    FdSource in(r.get(), "pipe", 5s);
    EXPECT_EQ(readString(in, "s"), "small");
    EXPECT_EQ(readString(in, "s"), big);
}

TEST(Wire, PrintableEscapesPeerBytesForErrorMessages)
{
    EXPECT_EQ(printable("plain text"), "plain text");
    EXPECT_EQ(printable("a\0b\n\\\xff"s), "a\\x00b\\x0a\\x5c\\xff");
    EXPECT_EQ(printable(std::string(10, 'x'), 4), "xxxx...");
}

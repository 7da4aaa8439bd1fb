// NAR reader and writer: golden archives written by hand, validation of hostile input, streaming.

#include "nix/nar.hh"
#include "util/error.hh"

#include "support/golden_bytes.hh"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sys/stat.h>
#include <unistd.h>

using namespace hydra;
using namespace hydra::nix;
using namespace std::string_literals;
namespace fs = std::filesystem;

using hydra::test::str;
using hydra::test::u64;

namespace {

std::string strs(std::initializer_list<std::string> tokens)
{
    std::string out;
    for (const auto& t : tokens) out += str(t);
    return out;
}

std::string file(const std::string& contents, bool executable = false)
{
    return strs({"(", "type", "regular"}) + (executable ? strs({"executable", ""}) : "") + str("contents") +
           str(contents) + str(")");
}

std::string symlink(const std::string& target)
{
    return strs({"(", "type", "symlink", "target", target, ")"});
}

std::string entry(const std::string& name, const std::string& node)
{
    return strs({"entry", "(", "name", name, "node"}) + node + str(")");
}

std::string directory(std::initializer_list<std::string> entries)
{
    std::string out = strs({"(", "type", "directory"});
    for (const auto& e : entries) out += e;
    return out + str(")");
}

std::string nar(const std::string& root)
{
    return str("nix-archive-1") + root;
}

/// Records every visitor call as one line.
class Recorder : public NarVisitor {
public:
    void directory(const std::string& path) override { log += "dir /" + path + "\n"; }
    void fileStart(const std::string& path, bool executable, uint64_t size) override
    {
        log += fmt::format("file /{} {}{}\n", path, size, executable ? " x" : "");
    }
    void fileData(std::string_view chunk) override
    {
        data.append(chunk);
        maxChunk = std::max(maxChunk, chunk.size());
    }
    void fileEnd() override { log += "end\n"; }
    void symlink(const std::string& path, const std::string& target) override
    {
        log += "link /" + path + " -> " + target + "\n";
    }
    std::string log, data;
    size_t maxChunk = 0;
};

std::string parseError(const std::string& bytes, const NarLimits& limits = {})
{
    StringSource in(bytes, "test NAR");
    NarVisitor ignore;
    try {
        parseNar(in, ignore, limits);
    } catch (const Error& e) {
        return e.what();
    }
    return "(no error)";
}

/// A fresh directory under the system temp dir, removed at the end of the test.
class TempDir {
public:
    TempDir()
    {
        std::random_device rd;
        path_ = fs::temp_directory_path() / fmt::format("hydra-nar-test-{:x}", rd());
        fs::create_directories(path_);
    }
    ~TempDir() { fs::remove_all(path_); }
    const fs::path& path() const { return path_; }

private:
    fs::path path_;
};

void writeFile(const fs::path& p, const std::string& contents)
{
    std::ofstream(p, std::ios::binary) << contents;
}

} // namespace

TEST(NarGolden, SingleFileExactBytes)
{
    // "hello" as a NAR, every byte spelled out.
    std::string golden = "\x0d\0\0\0\0\0\0\0nix-archive-1\0\0\0"
                         "\x01\0\0\0\0\0\0\0(\0\0\0\0\0\0\0"
                         "\x04\0\0\0\0\0\0\0type\0\0\0\0"
                         "\x07\0\0\0\0\0\0\0regular\0"
                         "\x08\0\0\0\0\0\0\0contents"
                         "\x05\0\0\0\0\0\0\0hello\0\0\0"
                         "\x01\0\0\0\0\0\0\0)\0\0\0\0\0\0\0"s;
    EXPECT_EQ(golden, nar(file("hello")));

    TempDir dir;
    writeFile(dir.path() / "f", "hello");
    ::chmod((dir.path() / "f").c_str(), 0644);
    StringSink out;
    dumpPath(dir.path() / "f", out);
    EXPECT_EQ(out.data(), golden);

    StringSource in(golden);
    Recorder r;
    parseNar(in, r);
    EXPECT_EQ(r.log, "file / 5\nend\n");
    EXPECT_EQ(r.data, "hello");
}

TEST(NarGolden, TreeIsSortedWithExecutableAndSymlink)
{
    TempDir dir;
    auto root = dir.path() / "root";
    fs::create_directories(root / "sub");
    writeFile(root / "zz", "last");
    writeFile(root / "a", "");
    writeFile(root / "sub" / "run", "#!/bin/sh\n");
    ::chmod((root / "zz").c_str(), 0644);
    ::chmod((root / "a").c_str(), 0444);
    ::chmod((root / "sub" / "run").c_str(), 0755);
    fs::create_symlink("../zz", root / "sub" / "link");
    fs::create_directory(root / "B"); // uppercase sorts before lowercase (byte order)

    auto golden = nar(directory({
        entry("B", directory({})),
        entry("a", file("")),
        entry("sub", directory({entry("link", symlink("../zz")), entry("run", file("#!/bin/sh\n", true))})),
        entry("zz", file("last")),
    }));
    StringSink out;
    dumpPath(root, out);
    EXPECT_EQ(out.data(), golden);

    StringSource in(golden);
    Recorder r;
    parseNar(in, r);
    EXPECT_EQ(r.log, "dir /\n"
                     "dir /B\n"
                     "file /a 0\nend\n"
                     "dir /sub\n"
                     "link /sub/link -> ../zz\n"
                     "file /sub/run 10 x\nend\n"
                     "file /zz 4\nend\n");
}

TEST(NarGolden, WriterRejectsUnsupportedFileTypes)
{
    TempDir dir;
    auto fifo = dir.path() / "fifo";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    StringSink out;
    try {
        dumpPath(fifo, out);
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("has an unsupported type"), std::string::npos) << e.what();
    }
}

TEST(NarStreaming, LargeFileArrivesInBoundedChunks)
{
    std::string contents(1'000'003, '\0');
    for (size_t i = 0; i < contents.size(); ++i) contents[i] = static_cast<char>(i * 7);
    StringSource in(nar(file(contents)));
    Recorder r;
    parseNar(in, r);
    EXPECT_EQ(r.data, contents);
    EXPECT_LE(r.maxChunk, 64u * 1024);
}

TEST(NarStreaming, CopyStopsExactlyAtTheEndOfTheArchive)
{
    auto archive = nar(directory({entry("x", file("data"))}));
    StringSource in(archive + "TRAILER!");
    StringSink out;
    copyNar(in, out);
    EXPECT_EQ(out.data(), archive);
    EXPECT_EQ(in.remaining(), 8u);
}

TEST(NarValidation, WrongMagic)
{
    EXPECT_EQ(parseError(str("nix-archive-2") + file("x")),
              "test NAR is not a NAR: it does not start with 'nix-archive-1'");
    EXPECT_EQ(parseError(str(std::string(100, 'a'))),
              "invalid NAR from test NAR: expected NAR header, got a string of 100 bytes (at '/')");
}

TEST(NarValidation, TruncatedContents)
{
    auto bytes = nar(file("hello world"));
    EXPECT_EQ(parseError(bytes.substr(0, bytes.size() - 20)),
              "unexpected end of test NAR while reading contents of '/'");
    EXPECT_EQ(parseError(bytes.substr(0, bytes.size() - 4)), "unexpected end of test NAR while reading ')'");
}

TEST(NarValidation, NonZeroPaddingInContents)
{
    auto bytes = nar(file("abc"));
    bytes[bytes.size() - 16 - 1] = 'Z'; // last padding byte after "abc"
    EXPECT_EQ(parseError(bytes), "non-zero padding after contents of '/' from test NAR");
}

TEST(NarValidation, EntriesMustBeSortedAndUnique)
{
    EXPECT_EQ(parseError(nar(directory({entry("b", file("")), entry("a", file(""))}))),
              "invalid NAR from test NAR: entry 'a' is not sorted after 'b' (or is a duplicate) (at '/')");
    EXPECT_EQ(parseError(nar(directory({entry("a", file("")), entry("a", file(""))}))),
              "invalid NAR from test NAR: entry 'a' is not sorted after 'a' (or is a duplicate) (at '/')");
}

TEST(NarValidation, BadNames)
{
    for (std::string bad : {"", ".", ".."})
        EXPECT_EQ(parseError(nar(directory({entry(bad, file(""))}))),
                  fmt::format("invalid NAR from test NAR: invalid entry name '{}' (at '/')", bad));
    EXPECT_NE(parseError(nar(directory({entry("a/b", file(""))}))).find("contains '/' or a NUL byte"),
              std::string::npos);
    EXPECT_EQ(parseError(nar(directory({entry("a\0b"s, file(""))}))),
              "invalid NAR from test NAR: entry name 'a\\x00b' contains '/' or a NUL byte (at '/')");
}

TEST(NarValidation, DepthIsBounded)
{
    std::string node = file("leaf");
    for (int i = 0; i < 4; ++i) node = directory({entry("d", node)});
    // The root directory is at depth 0, the innermost at depth 3.
    EXPECT_EQ(parseError(nar(node), {.maxDepth = 2}),
              "invalid NAR from test NAR: directories nested deeper than 2 (at '/d/d/d')");
    EXPECT_EQ(parseError(nar(node), {.maxDepth = 3}), "(no error)");
}

TEST(NarValidation, StructureErrors)
{
    EXPECT_EQ(parseError(nar(strs({"(", "type", "fifo", ")"}))),
              "invalid NAR from test NAR: unknown entry type 'fifo' (at '/')");
    EXPECT_EQ(parseError(nar(strs({"(", "type", "regular", "executable", "x"}))),
              "invalid NAR from test NAR: expected '', got 'x' (at '/')");
    EXPECT_EQ(parseError(nar(strs({"(", "type", "symlink", "target", "", ")"}))),
              "invalid NAR from test NAR: empty symlink target (at '/')");
    EXPECT_EQ(parseError(nar(strs({"(", "type", "directory", "entry", "(", "name", "x", "nodes"}))),
              "invalid NAR from test NAR: expected 'node', got 'nodes' (at '/')");
    EXPECT_EQ(parseError(nar(strs({"(", "type", "symlink", "target"}) + str(std::string(5000, 'x')))),
              "symlink target of '/' from test NAR is 5000 bytes long, more than the limit of 4096");
}

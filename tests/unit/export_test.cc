// Export streams: golden bytes for writer and reader, forwarding, and malformed streams.

#include "nix/export.hh"
#include "util/error.hh"

#include "support/golden_bytes.hh"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sys/stat.h>

using namespace hydra;
using namespace hydra::nix;
using namespace std::string_literals;
namespace fs = std::filesystem;

using hydra::test::str;
using hydra::test::u64;

namespace {

const std::string pathA = "/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-a";
const std::string pathB = "/nix/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-b";
const std::string drvB = "/nix/store/dddddddddddddddddddddddddddddddd-b.drv";

// NAR of a regular file holding "hi".
const std::string narHi =
    str("nix-archive-1") + str("(") + str("type") + str("regular") + str("contents") + str("hi") + str(")");

// Two paths: A (no references, no deriver) and B (references A and itself, has a deriver).
const std::string golden = u64(1) + narHi + "NIXE\0\0\0\0"s + str(pathA) + u64(0) + str("") + u64(0) + //
                           u64(1) + narHi + "NIXE\0\0\0\0"s + str(pathB) + u64(2) + str(pathA) + str(pathB) +
                           str(drvB) + u64(0) + //
                           u64(0);

std::string readError(const std::string& bytes)
{
    StringSource in(bytes, "import");
    NarVisitor ignore;
    try {
        readExport(in, ignore, [](const ExportEntry&) {});
    } catch (const Error& e) {
        return e.what();
    }
    return "(no error)";
}

} // namespace

TEST(Export, WriterProducesGoldenBytes)
{
    std::random_device rd;
    auto dir = fs::temp_directory_path() / fmt::format("hydra-export-test-{:x}", rd());
    fs::create_directories(dir);
    std::ofstream(dir / "hi") << "hi";
    ::chmod((dir / "hi").c_str(), 0644);

    StringSink out;
    writeExportEntry(out, {.path = pathA}, dir / "hi");
    writeExportEntry(out, {.path = pathB, .references = {pathB, pathA}, .deriver = drvB},
                     [](Sink& s) { s.write(narHi); });
    writeExportEnd(out);
    fs::remove_all(dir);
    EXPECT_EQ(out.data(), golden);
}

TEST(Export, ReaderReportsEveryPathAndItsNar)
{
    StringSource in(golden);
    struct : NarVisitor {
        std::string data;
        void fileData(std::string_view chunk) override { data.append(chunk); }
    } contents;
    std::vector<ExportEntry> entries;
    readExport(in, contents, [&](const ExportEntry& e) { entries.push_back(e); });
    ASSERT_EQ(entries.size(), 2u);
    EXPECT_EQ(entries[0], (ExportEntry{.path = pathA}));
    EXPECT_EQ(entries[1], (ExportEntry{.path = pathB, .references = {pathA, pathB}, .deriver = drvB}));
    EXPECT_EQ(contents.data, "hihi");
    EXPECT_EQ(in.remaining(), 0u);
}

TEST(Export, CopyForwardsByteForByte)
{
    StringSource in(golden + "next");
    StringSink out;
    auto entries = copyExport(in, out);
    EXPECT_EQ(out.data(), golden);
    EXPECT_EQ(entries.size(), 2u);
    EXPECT_EQ(in.remaining(), 4u);
}

TEST(Export, LegacySignatureIsAcceptedAndDropped)
{
    auto bytes =
        u64(1) + narHi + "NIXE\0\0\0\0"s + str(pathA) + u64(0) + str("") + u64(1) + str("sig") + u64(0);
    EXPECT_EQ(readError(bytes), "(no error)");
}

TEST(Export, MalformedStreams)
{
    EXPECT_EQ(readError(u64(2)), "import is not an export stream: expected marker 0 or 1, got 2");
    EXPECT_EQ(readError(u64(1) + narHi + u64(0x1234)),
              "import is not an export stream: wrong magic 0x1234 after a NAR");
    EXPECT_EQ(readError(u64(1) + narHi + "NIXE\0\0\0\0"s + str(pathA)),
              "unexpected end of import while reading references of " + pathA);
    EXPECT_EQ(readError(golden.substr(0, golden.size() - 8)),
              "unexpected end of import while reading export stream marker");
    EXPECT_EQ(readError(u64(1) + str("nix-archive-1") + str("(")),
              "unexpected end of import while reading 'type'");
}

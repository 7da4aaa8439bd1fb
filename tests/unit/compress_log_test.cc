// compressLogFile and the CompressLog plugin: the compressed logs are what the real bzip2 and
// zstd programs decompress, the original goes only once the compressed file is complete, and a
// missing or already compressed log is no error.

#include "notify/compress_log.hh"
#include "support/temp_files.hh"
#include "util/error.hh"
#include "util/process.hh"

#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <random>
#include <sys/stat.h>

using namespace hydra;
using namespace hydra::notify;
namespace fs = std::filesystem;

namespace {

/// A log of `n` bytes mixing text with incompressible bytes, so both codecs see real work.
std::string sampleLog(size_t n)
{
    std::string s;
    std::mt19937 rng(42);
    while (s.size() < n) {
        s += fmt::format("building '/nix/store/abc-step-{}.drv'...\n", s.size());
        for (int i = 0; i < 16; ++i) s += static_cast<char>(rng() & 0xff);
    }
    s.resize(n);
    return s;
}

std::string decompress(const fs::path& file, LogCompression method)
{
    const char* prog = method == LogCompression::Zstd ? "zstd" : "bzip2";
    return runChecked({.argv = {prog, "-d", "-c", file.string()}, .pipeStdout = true, .pipeStderr = true});
}

class CompressLogTest : public test::TempFilesTest, public ::testing::WithParamInterface<LogCompression> {
protected:
    // CompressLog touches neither the database (the pool connects on demand only) nor the config.
    db::ConnectionPool pool{db::PoolOptions{.conninfo = "dbname=unused"}};
    HydraConfig config;
    PluginContext ctx{pool, config, {}};
};

} // namespace

TEST_P(CompressLogTest, RoundTripsThroughTheRealProgramAndRemovesTheOriginal)
{
    // Larger than the 256 KiB chunks and bzip2's 900k blocks: several reads and blocks.
    std::string content = sampleLog(3 * 1024 * 1024 + 17);
    auto log = write("build-logs/ab/cdef-hello.drv", content);
    ::chmod(log.c_str(), 0644);

    auto out = compressLogFile(log, GetParam());

    ASSERT_TRUE(out.has_value());
    EXPECT_EQ(out->string(), log + compressedSuffix(GetParam()));
    EXPECT_FALSE(fs::exists(log));
    EXPECT_EQ(decompress(*out, GetParam()), content);
    struct stat st {};
    ASSERT_EQ(::stat(out->c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0644u) << "the web server must be able to read it as it read the log";
    // No temporary file is left behind.
    EXPECT_EQ(std::distance(fs::directory_iterator(fs::path(log).parent_path()), fs::directory_iterator()),
              1);
}

TEST_P(CompressLogTest, EmptyLogRoundTrips)
{
    auto log = write("empty.log", "");
    auto out = compressLogFile(log, GetParam());
    ASSERT_TRUE(out.has_value());
    EXPECT_EQ(decompress(*out, GetParam()), "");
}

TEST_P(CompressLogTest, MissingLogIsNotAnError)
{
    EXPECT_EQ(compressLogFile(dir / "no-such.log", GetParam()), std::nullopt);
    EXPECT_TRUE(fs::is_empty(dir));
}

TEST_P(CompressLogTest, CompressingTwiceKeepsTheFirstResult)
{
    auto log = write("twice.log", "line 1\nline 2\n");
    CompressLog plugin(GetParam(), true);
    auto event = Event::parse("step_finished", "5\t1\t" + log);
    plugin.handle(event, ctx);
    plugin.handle(event, ctx); // the daemon may deliver an event again after a restart

    EXPECT_FALSE(fs::exists(log));
    EXPECT_EQ(decompress(log + compressedSuffix(GetParam()), GetParam()), "line 1\nline 2\n");
}

TEST_P(CompressLogTest, AFailureKeepsTheLogAndLeavesNoTemporaryFile)
{
    auto log = write("fail/step.log", "keep me\n");
    // A non-empty directory where the compressed file must go: the final rename fails.
    write(std::string("fail/step.log") + compressedSuffix(GetParam()) + "/blocker", "");
    try {
        compressLogFile(log, GetParam());
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("step.log"), std::string::npos) << e.what();
    }
    EXPECT_TRUE(fs::exists(log));
    EXPECT_EQ(std::distance(fs::directory_iterator(dir / "fail"), fs::directory_iterator()), 2)
        << "temp file left";
}

TEST_P(CompressLogTest, ASymlinkIsNotFollowed)
{
    auto target = write("secret", "not a log\n");
    fs::create_symlink(target, dir / "link.log");
    try {
        compressLogFile(dir / "link.log", GetParam());
        FAIL() << "a symlink was compressed";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("link.log"), std::string::npos) << e.what();
    }
    EXPECT_TRUE(fs::exists(target));
    EXPECT_TRUE(fs::is_symlink(dir / "link.log"));
}

TEST_P(CompressLogTest, StepWithoutLogIsIgnored)
{
    CompressLog plugin(GetParam(), false);
    EXPECT_NO_THROW(plugin.handle(Event::parse("step_finished", "5\t1"), ctx));
}

INSTANTIATE_TEST_SUITE_P(Codecs, CompressLogTest,
                         ::testing::Values(LogCompression::Bzip2, LogCompression::Zstd),
                         [](const auto& p) { return p.param == LogCompression::Zstd ? "zstd" : "bzip2"; });

TEST(CompressLogFactory, FollowsTheConfiguration)
{
    HydraConfig on;
    on.notify.compressBuildLogs = true;
    auto p = makeCompressLog(on);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(p->name(), "CompressLog");
    EXPECT_TRUE(p->wants("step_finished"));
    EXPECT_FALSE(p->wants("build_finished"));

    HydraConfig off;
    off.notify.compressBuildLogs = false;
    EXPECT_EQ(makeCompressLog(off), nullptr);
}

#include "util/error.hh"
#include "util/process.hh"

#include <csignal>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <unistd.h>

using namespace hydra;

TEST(Process, RunCapturesOutputAndStatus)
{
    auto r = run({.argv = {"sh", "-c", "cat; echo err >&2; exit 3"}}, "hello");
    EXPECT_EQ(r.out, "hello");
    EXPECT_EQ(r.err, "err\n");
    EXPECT_EQ(statusToString(r.status), "exited with status 3");
}

TEST(Process, MissingProgramNamesTheProgram)
{
    try {
        Process::spawn({.argv = {"no-such-program-hydra"}});
        FAIL() << "spawn succeeded";
    } catch (const Error& e) {
        EXPECT_STREQ(e.what(), "cannot start no-such-program-hydra: No such file or directory");
    }
}

TEST(Process, TimeoutKillsTheChild)
{
    EXPECT_THROW(run({.argv = {"sleep", "30"}}, {}, std::chrono::milliseconds(200)), TimeoutError);
}

TEST(Process, RunCheckedReportsStderr)
{
    try {
        runChecked({.argv = {"sh", "-c", "echo broken >&2; exit 1"}});
        FAIL();
    } catch (const Error& e) {
        EXPECT_STREQ(e.what(), "sh exited with status 1: broken");
    }
}

TEST(Process, LargeInputAndOutputDoNotStallThePipes)
{
    // More than a pipe buffer each way, on stdout and stderr at once.
    std::string input(4 << 20, 'x');
    auto r = run({.argv = {"sh", "-c", "tee /dev/stderr"}}, input);
    EXPECT_TRUE(exitedOk(r.status));
    EXPECT_EQ(r.out.size(), input.size());
    EXPECT_EQ(r.err.size(), input.size());
}

TEST(Process, DestructionKillsAndReapsTheChild)
{
    pid_t pid;
    {
        auto p = Process::spawn({.argv = {"sleep", "30"}});
        pid = p.pid();
    }
    // The pid is gone (reaped), not a zombie waiting for us.
    EXPECT_EQ(::kill(pid, 0), -1);
}

TEST(Process, OutputFileCollectsStdoutAndStderrOfADetachedChild)
{
    auto file = std::filesystem::temp_directory_path() / ("hydra-process-test-" + std::to_string(::getpid()));
    std::filesystem::remove(file);
    auto p = Process::spawn(
        {.argv = {"sh", "-c", "echo out; echo err >&2"}, .outputFile = file.string(), .newSession = true});
    auto status = p.wait();
    EXPECT_TRUE(exitedOk(status));
    std::ifstream in(file);
    std::string text((std::istreambuf_iterator<char>(in)), {});
    EXPECT_EQ(text, "out\nerr\n");
    std::filesystem::remove(file);
}

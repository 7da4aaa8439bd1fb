#include "util/error.hh"
#include "util/process.hh"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <pthread.h>
#include <sys/wait.h>
#include <thread>
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

TEST(Process, ExecFailureCarriesItsErrno)
{
    try {
        Process::spawn({.argv = {"/nonexistent-dir-hydra/program"}});
        FAIL() << "spawn succeeded";
    } catch (const SpawnError& e) {
        EXPECT_EQ(e.errorNumber(), ENOENT);
    }
    auto script =
        std::filesystem::temp_directory_path() / ("hydra-process-noexec-" + std::to_string(::getpid()));
    std::ofstream(script) << "#!/bin/sh\n";
    try {
        Process::spawn({.argv = {script.string()}});
        FAIL() << "spawn of a file without execute permission succeeded";
    } catch (const SpawnError& e) {
        EXPECT_EQ(e.errorNumber(), EACCES);
    }
    std::filesystem::remove(script);
}

TEST(Process, FailureBeforeExecIsASpawnError)
{
    try {
        Process::spawn({.argv = {"true"}, .cwd = "/nonexistent-dir-hydra"});
        FAIL() << "spawn succeeded";
    } catch (const SpawnError& e) {
        EXPECT_EQ(e.errorNumber(), ENOENT);
    }
}

TEST(Process, WorkingDirectoryAndEnvironment)
{
    ::setenv("HYDRA_PROCESS_TEST_UNSET", "x", 1);
    auto r = runChecked({.argv = {"sh", "-c", "pwd; echo \"$HYDRA_A-${HYDRA_PROCESS_TEST_UNSET:-unset}\""},
                         .setEnv = {{"HYDRA_A", "a"}},
                         .unsetEnv = {"HYDRA_PROCESS_TEST_UNSET"},
                         .cwd = "/"});
    ::unsetenv("HYDRA_PROCESS_TEST_UNSET");
    EXPECT_EQ(r, "/\na-unset\n");
}

// A variable set for the child replaces the inherited one, and unsetting a name leaves the
// variables whose names merely begin with it.
TEST(Process, SetVariableReplacesTheInheritedOne)
{
    ::setenv("HYDRA_PROCESS_TEST_SET", "old", 1);
    ::setenv("HYDRA_PROCESS_TEST_SET_LONGER", "kept", 1);
    ::setenv("HYDRA_PROCESS_TEST", "gone", 1);
    auto r = runChecked({.argv = {"sh", "-c", "env | grep ^HYDRA_PROCESS_TEST | sort"},
                         .setEnv = {{"HYDRA_PROCESS_TEST_SET", "new"}},
                         .unsetEnv = {"HYDRA_PROCESS_TEST"}});
    ::unsetenv("HYDRA_PROCESS_TEST_SET");
    ::unsetenv("HYDRA_PROCESS_TEST_SET_LONGER");
    ::unsetenv("HYDRA_PROCESS_TEST");
    EXPECT_EQ(r, "HYDRA_PROCESS_TEST_SET=new\nHYDRA_PROCESS_TEST_SET_LONGER=kept\n");
}

// `cat` ends at once on /dev/null, where an inherited terminal or pipe would keep it waiting;
// the shared descriptor serves one start after another.
TEST(Process, StdinFromNullEndsAtOnce)
{
    for (int i = 0; i < 2; ++i) {
        auto p = Process::spawn({.argv = {"sh", "-c", "cat; readlink /proc/self/fd/0"},
                                 .stdinFromNull = true,
                                 .pipeStdout = true});
        auto out = readAll(p.out().get(), std::chrono::steady_clock::now() + std::chrono::seconds(30), "sh");
        EXPECT_TRUE(exitedOk(p.wait()));
        EXPECT_EQ(out, "/dev/null\n");
    }
}

// A thread keeps the stack of the children it starts; a start with more arguments than it has
// room for gets a larger one. A script without "#!" makes execvpe build a new argv on that
// stack (20,000 arguments: 160 KiB of pointers).
TEST(Process, ManyArgumentsAfterFewOnTheSameThread)
{
    auto script =
        std::filesystem::temp_directory_path() / ("hydra-process-args-" + std::to_string(::getpid()));
    std::ofstream(script) << "echo $#\n";
    std::filesystem::permissions(script, std::filesystem::perms::owner_all);
    EXPECT_EQ(runChecked({.argv = {script.string(), "a"}}), "1\n");
    std::vector<std::string> argv{script.string()};
    argv.resize(20001, "x");
    EXPECT_EQ(runChecked({.argv = argv}), "20000\n");
    EXPECT_EQ(runChecked({.argv = {script.string(), "a", "b"}}), "2\n");
    std::filesystem::remove(script);
}

TEST(Process, ChildLeadsItsOwnGroupOrSession)
{
    auto grouped = Process::spawn({.argv = {"sleep", "30"}});
    EXPECT_EQ(::getpgid(grouped.pid()), grouped.pid());
    EXPECT_EQ(::getsid(grouped.pid()), ::getsid(0));
    auto detached = Process::spawn({.argv = {"sleep", "30"}, .newSession = true});
    EXPECT_EQ(::getsid(detached.pid()), detached.pid());
}

// The child must start with no signal blocked even when the spawning thread blocks some, and
// the spawning thread's mask must be as it was.
TEST(Process, ChildStartsWithNoBlockedSignalsAndTheCallersMaskIsKept)
{
    sigset_t usr1, before, after;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    ASSERT_EQ(::pthread_sigmask(SIG_BLOCK, &usr1, &before), 0);
    auto r = runChecked({.argv = {"grep", "^SigBlk:", "/proc/self/status"}});
    ::pthread_sigmask(SIG_SETMASK, nullptr, &after);
    ::pthread_sigmask(SIG_SETMASK, &before, nullptr);
    EXPECT_EQ(r, "SigBlk:\t0000000000000000\n");
    EXPECT_EQ(sigismember(&after, SIGUSR1), 1);
    EXPECT_EQ(sigismember(&after, SIGTERM), sigismember(&before, SIGTERM));
}

// The parent-death signal is tied to the spawning thread: a child of a thread that ends is killed.
TEST(Process, DieWithParentKillsTheChildWhenTheSpawningThreadEnds)
{
    pid_t pid = -1;
    std::thread([&] {
        pid = Process::spawn({.argv = {"sleep", "30"}, .dieWithParent = true}).release();
    }).join();
    ASSERT_GT(pid, 0);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_EQ(statusToString(status), "killed by signal 9");
}

TEST(Process, ManyThreadsSpawnAtOnce)
{
    std::atomic<int> ok{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&] {
            for (int i = 0; i < 25; ++i)
                if (run({.argv = {"echo", "x"}}).out == "x\n") ++ok;
        });
    for (auto& t : threads) t.join();
    EXPECT_EQ(ok, 100);
}

// A change of user goes through fork (see startChild); it needs root.
TEST(Process, UserAndGroupAreDropped)
{
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    auto r = runChecked({.argv = {"sh", "-c", "id -u; id -g; id -G"}, .uid = 65534, .gid = 65534});
    EXPECT_EQ(r, "65534\n65534\n65534\n");
    try {
        Process::spawn({.argv = {"/nonexistent-dir-hydra/program"}, .uid = 65534, .gid = 65534});
        FAIL() << "spawn succeeded";
    } catch (const SpawnError& e) {
        EXPECT_EQ(e.errorNumber(), ENOENT);
    }
}

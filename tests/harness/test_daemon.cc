#include "harness/test_daemon.hh"

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>

namespace hydra::test {

TestDaemon::TestDaemon(std::string program, std::string logFile)
    : program_(std::move(program)), logFile_(std::move(logFile))
{}

void TestDaemon::start(const std::map<std::string, std::string>& env,
                       const std::vector<std::string>& unsetEnv, const std::vector<std::string>& args)
{
    // The program and its arguments reach the shell as positional parameters, never as code.
    std::vector<std::string> argv{"sh", "-c", "exec \"$0\" \"$@\" >>\"$HYDRA_TEST_DAEMON_LOG\" 2>&1",
                                  program_};
    argv.insert(argv.end(), args.begin(), args.end());
    auto allEnv = env;
    allEnv["HYDRA_TEST_DAEMON_LOG"] = logFile_;
    process_ = Process::spawn({.argv = argv, .setEnv = allEnv, .unsetEnv = unsetEnv, .dieWithParent = true});
}

int TestDaemon::stop()
{
    if (!running()) return 0;
    process_->kill(SIGTERM);
    auto st = process_->waitUntil(std::chrono::steady_clock::now() + std::chrono::seconds(60));
    EXPECT_TRUE(st.has_value()) << std::filesystem::path(program_).filename().string()
                                << " did not stop on SIGTERM";
    process_.reset();
    return st.value_or(-1);
}

void TestDaemon::kill()
{
    if (!process_) return;
    process_->kill(SIGKILL);
    process_->waitUntil(std::chrono::steady_clock::now() + std::chrono::seconds(60));
    process_.reset();
}

std::string TestDaemon::log() const
{
    std::ifstream f(logFile_);
    return {std::istreambuf_iterator<char>(f), {}};
}

} // namespace hydra::test

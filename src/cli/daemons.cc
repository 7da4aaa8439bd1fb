#include "cli/daemons.hh"

#include "util/error.hh"
#include "util/process.hh"

#include <csignal>
#include <filesystem>
#include <fstream>
#include <thread>
#include <unistd.h>

namespace hydra::cli {

namespace {

// The programs of the system in the order they start; only those installed are run.
const std::vector<std::string> daemonPrograms{"hydra-queue-runner", "hydra-evaluator", "hydra-notify",
                                              "hydra-server"};

std::string readFileOr(const std::string& path, const std::string& fallback)
{
    std::ifstream f(path);
    if (!f) return fallback;
    return {std::istreambuf_iterator<char>(f), {}};
}

} // namespace

Daemons::Daemons(std::string dataDir, std::string binDir)
    : dataDir_(std::move(dataDir)), binDir_(std::move(binDir))
{}

std::string Daemons::selfDir()
{
    std::error_code ec;
    auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (ec) throw Error("cannot find the hydra program's directory: {}", ec.message());
    return exe.parent_path().string();
}

std::vector<std::string> Daemons::installed() const
{
    std::vector<std::string> out;
    for (const auto& p : daemonPrograms)
        if (::access((binDir_ + "/" + p).c_str(), X_OK) == 0) out.push_back(p);
    return out;
}

std::string Daemons::pidFile(const std::string& program) const
{
    return dataDir_ + "/run/" + program + ".pid";
}

int Daemons::runningPid(const std::string& program) const
{
    int pid = 0;
    try {
        pid = std::stoi(readFileOr(pidFile(program), "0"));
    } catch (const std::exception&) {
        return 0;
    }
    if (pid <= 0 || ::kill(pid, 0) != 0) return 0;
    // A recycled pid belongs to some other program: only trust a matching command line.
    auto cmdline = readFileOr("/proc/" + std::to_string(pid) + "/cmdline", "");
    return cmdline.find(program) != std::string::npos ? pid : 0;
}

std::vector<std::string> Daemons::startAll(const std::map<std::string, std::string>& env) const
{
    std::filesystem::create_directories(dataDir_ + "/run");
    std::filesystem::create_directories(dataDir_ + "/logs");
    std::vector<std::string> lines;
    for (const auto& program : installed()) {
        if (int pid = runningPid(program)) {
            lines.push_back(fmt::format("{}: already running (pid {})", program, pid));
            continue;
        }
        std::string log = dataDir_ + "/logs/" + program + ".log";
        auto p = Process::spawn(
            {.argv = {binDir_ + "/" + program}, .setEnv = env, .outputFile = log, .newSession = true});
        pid_t pid = p.release();
        std::ofstream(pidFile(program)) << pid << "\n";
        lines.push_back(fmt::format("{}: started (pid {}, log {})", program, pid, log));
    }
    return lines;
}

std::vector<std::string> Daemons::stopAll(std::chrono::seconds timeout) const
{
    std::vector<std::string> lines;
    auto programs = installed();
    for (auto it = programs.rbegin(); it != programs.rend(); ++it) {
        int pid = runningPid(*it);
        if (!pid) continue;
        ::kill(pid, SIGTERM);
        auto deadline = std::chrono::steady_clock::now() + timeout;
        while (::kill(pid, 0) == 0 && runningPid(*it) && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        bool stopped = runningPid(*it) == 0;
        if (stopped) std::filesystem::remove(pidFile(*it));
        lines.push_back(fmt::format("{}: {}", *it, stopped ? "stopped" : "still running after SIGTERM"));
    }
    return lines;
}

std::vector<std::string> Daemons::status() const
{
    std::vector<std::string> lines;
    for (const auto& program : installed()) {
        int pid = runningPid(program);
        lines.push_back(pid ? fmt::format("{}: running (pid {})", program, pid) : program + ": stopped");
    }
    return lines;
}

} // namespace hydra::cli

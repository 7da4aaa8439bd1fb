// hydra-queue-runner: builds every queued build on the configured machines.

#include "db/daemon_database.hh"
#include "nix/machines.hh"
#include "queue-runner/queue_runner.hh"
#include "util/error.hh"
#include "util/logging.hh"
#include "util/stop_signals.hh"

#include <csignal>
#include <cstdio>
#include <exception>
#include <pqxx/except>
#include <string_view>
#include <thread>

using namespace hydra;

namespace {

qr::QueueRunnerSettings settingsFromEnvironment()
{
    qr::QueueRunnerSettings s;
    s.dataDir = hydraDataDir();
    s.config = HydraConfig::fromEnvironment();
    s.machinesFiles = nix::machinesFilePaths();
    return s;
}

int runDaemon()
{
    auto settings = settingsFromEnvironment();
    auto database = db::DatabaseSource::fromEnvironment(settings.dataDir);
    runUntilStopSignal([&](const std::stop_token& stop) {
        auto conninfo = db::openDaemonDatabase("hydra-queue-runner", database, stop);
        if (!conninfo) return;
        settings.conninfo = *conninfo;
        qr::runQueueRunner(settings, stop);
    });
    return 0;
}

int usage()
{
    std::fprintf(stderr, "usage: hydra-queue-runner [--status] [-v]\n");
    return 2;
}

} // namespace

int main(int argc, char** argv)
{
    std::signal(SIGPIPE, SIG_IGN);
    bool status = false;
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        if (a == "--status")
            status = true;
        else if (a == "-v" || a == "--verbose")
            log::setLevel(log::Level::Debug);
        else
            return usage();
    }
    try {
        if (status) {
            auto s = settingsFromEnvironment();
            s.conninfo = db::DatabaseSource::fromEnvironment(s.dataDir).conninfo(/*startPrivate=*/true);
            std::printf("%s\n", qr::queryQueueRunnerStatus(s.conninfo, std::chrono::seconds(10)).c_str());
            return 0;
        }
        return runDaemon();
    } catch (const Error& e) {
        std::fprintf(stderr, "hydra-queue-runner: error: %s\n", e.what());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "hydra-queue-runner: error: %s\n", e.what());
    }
    return 1;
}

// hydra-queue-runner: builds every queued build on the configured machines.

#include "db/private_cluster.hh"
#include "nix/machines.hh"
#include "queue-runner/queue_runner.hh"
#include "util/error.hh"
#include "util/logging.hh"

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <pqxx/except>
#include <string_view>
#include <thread>

using namespace hydra;

namespace {

std::string dataDir()
{
    const char* d = std::getenv("HYDRA_DATA"); // NOLINT(concurrency-mt-unsafe): before any thread
    return d && *d ? d : "/var/lib/hydra";
}

qr::QueueRunnerSettings settingsFromEnvironment()
{
    qr::QueueRunnerSettings s;
    s.dataDir = dataDir();
    s.config = HydraConfig::fromEnvironment();
    s.conninfo = db::resolveDatabase(std::getenv("HYDRA_DBI"), s.dataDir, /*startPrivate=*/true); // NOLINT
    s.machinesFiles = nix::machinesFilePaths();
    return s;
}

// SIGTERM and SIGINT go to a thread that waits for them, so every other thread runs with them
// blocked and shutdown happens through stop tokens.
int runDaemon()
{
    sigset_t stopSignals;
    sigemptyset(&stopSignals);
    sigaddset(&stopSignals, SIGTERM);
    sigaddset(&stopSignals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stopSignals, nullptr);
    auto settings = settingsFromEnvironment();
    std::exception_ptr failure;
    std::jthread daemon([&](const std::stop_token& stop) {
        try {
            qr::runQueueRunner(settings, stop);
        } catch (...) {
            failure = std::current_exception();
        }
    });
    std::jthread waiter([&] {
        int sig = 0;
        sigwait(&stopSignals, &sig);
        log::info("received signal {}: stopping", sig);
        daemon.request_stop();
    });
    daemon.join();
    // The daemon may have ended by itself (an error): wake the waiter so it can end too.
    if (!daemon.get_stop_token().stop_requested()) ::kill(::getpid(), SIGTERM);
    waiter.join();
    if (failure) std::rethrow_exception(failure);
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

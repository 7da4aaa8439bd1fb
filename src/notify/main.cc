// hydra-notify: hands every notification about builds and evaluations to the configured
// plugins (RunCommand, ...), until SIGTERM.

#include "db/private_cluster.hh"
#include "notify/notify_daemon.hh"
#include "notify/plugins.hh"
#include "util/error.hh"
#include "util/logging.hh"

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string_view>
#include <thread>

using namespace hydra;

namespace {

std::string dataDir()
{
    const char* d = std::getenv("HYDRA_DATA"); // NOLINT(concurrency-mt-unsafe): before any thread
    return d && *d ? d : "/var/lib/hydra";
}

notify::NotifyDaemonSettings settingsFromEnvironment()
{
    notify::NotifyDaemonSettings s;
    s.dataDir = dataDir();
    s.config = HydraConfig::fromEnvironment();
    s.conninfo = db::resolveDatabase(std::getenv("HYDRA_DBI"), s.dataDir, /*startPrivate=*/true); // NOLINT
    s.plugins = notify::makePlugins(s.config);
    s.retry = notify::RetryPolicy::fromEnvironment();
    s.maxDbConnections = std::max(1U, s.config.notify.maxConcurrentNotifications) + 3;
    s.metricsAddress = notify::notifyMetricsAddress(s.config);
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
            notify::runNotifyDaemon(settings, stop);
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

} // namespace

int main(int argc, char** argv)
{
    std::signal(SIGPIPE, SIG_IGN);
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        if (a == "-v" || a == "--verbose")
            log::setLevel(log::Level::Debug);
        else {
            std::fprintf(stderr, "usage: hydra-notify [-v]\n");
            return 2;
        }
    }
    try {
        return runDaemon();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "hydra-notify: error: %s\n", e.what());
    }
    return 1;
}

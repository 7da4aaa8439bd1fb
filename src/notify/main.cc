// hydra-notify: hands every notification about builds and evaluations to the configured
// plugins (RunCommand, ...), until SIGTERM.

#include "db/daemon_database.hh"
#include "notify/notify_daemon.hh"
#include "notify/plugins.hh"
#include "util/error.hh"
#include "util/logging.hh"
#include "util/stop_signals.hh"

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <exception>
#include <string_view>
#include <thread>

using namespace hydra;

namespace {

notify::NotifyDaemonSettings settingsFromEnvironment()
{
    notify::NotifyDaemonSettings s;
    s.dataDir = hydraDataDir();
    s.config = HydraConfig::fromEnvironment();
    s.plugins = notify::makePlugins(s.config);
    s.retry = notify::RetryPolicy::fromEnvironment();
    s.maxDbConnections = std::max(1U, s.config.notify.maxConcurrentNotifications) + 3;
    s.metricsAddress = notify::notifyMetricsAddress(s.config);
    return s;
}

int runDaemon()
{
    auto settings = settingsFromEnvironment();
    auto database = db::DatabaseSource::fromEnvironment(settings.dataDir);
    runUntilStopSignal([&](const std::stop_token& stop) {
        auto conninfo = db::openDaemonDatabase("hydra-notify", database, stop);
        if (!conninfo) return;
        settings.conninfo = *conninfo;
        notify::runNotifyDaemon(settings, stop);
    });
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

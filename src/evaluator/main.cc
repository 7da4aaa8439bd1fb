// hydra-evaluator: evaluates due jobsets into evaluations and queued builds, until SIGTERM.
// `--unlock` frees jobsets an evaluator that died left marked as being evaluated.

#include "db/daemon_database.hh"
#include "evaluator/evaluator_daemon.hh"
#include "util/error.hh"
#include "util/logging.hh"
#include "util/stop_signals.hh"

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <exception>
#include <string_view>

using namespace hydra;

namespace {

evaluator::EvaluatorDaemonSettings settingsFromEnvironment(const std::string& dataDir)
{
    evaluator::EvaluatorDaemonSettings s;
    auto config = HydraConfig::fromEnvironment();
    s.evaluation = evaluator::evaluationSettings(config, dataDir);
    s.maxConcurrentEvals = std::max(1U, config.evaluator.maxConcurrentEvals);
    return s;
}

int run(bool unlock)
{
    auto dataDir = hydraDataDir();
    auto settings = settingsFromEnvironment(dataDir);
    auto database = db::DatabaseSource::fromEnvironment(dataDir);
    if (unlock) {
        int n = evaluator::unlockJobsets(database.conninfo(/*startPrivate=*/true));
        std::printf("hydra-evaluator: freed %d jobsets\n", n);
        return 0;
    }
    SystemClock clock;
    runUntilStopSignal([&](const std::stop_token& stop) {
        auto conninfo = db::openDaemonDatabase("hydra-evaluator", database, stop);
        if (!conninfo) return;
        settings.conninfo = *conninfo;
        evaluator::runEvaluatorDaemon(settings, clock, stop);
    });
    return 0;
}

} // namespace

int main(int argc, char** argv)
{
    std::signal(SIGPIPE, SIG_IGN);
    bool unlock = false;
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        if (a == "-v" || a == "--verbose")
            log::setLevel(log::Level::Debug);
        else if (a == "--unlock")
            unlock = true;
        else {
            std::fprintf(stderr, "usage: hydra-evaluator [--unlock] [-v]\n");
            return 2;
        }
    }
    try {
        return run(unlock);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "hydra-evaluator: error: %s\n", e.what());
    }
    return 1;
}

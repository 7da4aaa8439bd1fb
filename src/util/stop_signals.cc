#include "util/stop_signals.hh"

#include "util/logging.hh"

#include <atomic>
#include <condition_variable>
#include <csignal>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <pthread.h>
#include <thread>
#include <unistd.h>

namespace hydra {

void runUntilStopSignal(const std::function<void(const std::stop_token&)>& body)
{
    sigset_t stopSignals;
    sigemptyset(&stopSignals);
    sigaddset(&stopSignals, SIGTERM);
    sigaddset(&stopSignals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stopSignals, nullptr);
    std::exception_ptr failure;
    std::atomic<bool> ended{false}; // the work ended by itself: the signal below is our own
    std::jthread work([&](const std::stop_token& stop) {
        try {
            body(stop);
        } catch (...) {
            failure = std::current_exception();
        }
    });
    std::jthread waiter([&] {
        int sig = 0;
        sigwait(&stopSignals, &sig);
        if (!ended) log::info("received signal {}: stopping", sig);
        work.request_stop();
    });
    work.join();
    // The work may have ended by itself (an error): wake the waiter so it can end too.
    if (!work.get_stop_token().stop_requested()) {
        ended = true;
        ::kill(::getpid(), SIGTERM);
    }
    waiter.join();
    if (failure) std::rethrow_exception(failure);
}

bool sleepUnlessStopped(const std::stop_token& stop, std::chrono::milliseconds d)
{
    std::mutex m;
    std::condition_variable_any cv;
    std::unique_lock lock(m);
    cv.wait_for(lock, stop, d, [] { return false; });
    return !stop.stop_requested();
}

} // namespace hydra

#pragma once
// ConnectionThreads: the threads that serve hydra-server's connections — a fixed core for pages,
// and more on demand, so that clients following live logs never leave a page request waiting.

#include "util/sync.hh"

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <list>
#include <thread>

namespace hydra::server {

/// A pool that keeps `core` threads and starts another (up to `max`) whenever a task arrives and
/// none is idle; threads above the core end after being idle for a while. A connection holds a
/// thread while it is open, so a long stream must not take the thread a page needs.
class ConnectionThreads {
public:
    ConnectionThreads(size_t core, size_t max);
    ~ConnectionThreads();
    ConnectionThreads(const ConnectionThreads&) = delete;
    ConnectionThreads& operator=(const ConnectionThreads&) = delete;

    /// Runs `task` on an idle thread, a new one, or (at `max`) the first that becomes free.
    void enqueue(std::function<void()> task);
    /// Runs the queued tasks, then joins every thread.
    void shutdown();

    /// Threads alive now (for tests and the log).
    size_t threads();

private:
    struct Worker {
        std::thread thread;
        bool finished = false;
    };
    struct State {
        std::deque<std::function<void()>> tasks;
        std::list<Worker> workers;
        size_t idle = 0;
        size_t alive = 0; ///< workers not yet returned
        bool stopping = false;
    };

    void startWorker(Sync<State>::Lock& s);
    void work(std::list<Worker>::iterator self);
    static void reapFinished(Sync<State>::Lock& s);

    const size_t core_, max_;
    Sync<State> state_;
    std::condition_variable wake_;
};

} // namespace hydra::server

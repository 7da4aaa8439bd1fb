#pragma once
// StderrPump: drains a child's stderr on a thread of its own, forwarding it and keeping its tail.

#include "util/sync.hh"

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace hydra::nix {

/// Reads a pipe until its end (or stop()), handing each chunk to a callback and remembering
/// the last bytes for error messages. Draining on its own thread means a chatty child can never
/// fill the pipe and stall while its owner waits on another descriptor.
class StderrPump {
public:
    /// Starts reading `fd` (owned by the caller, open until stop() returns).
    StderrPump(int fd, std::function<void(std::string_view)> sink);
    StderrPump(const StderrPump&) = delete;
    StderrPump& operator=(const StderrPump&) = delete;
    ~StderrPump() { stop(); }

    /// Sends what follows to `sink` instead; once it returns, the old sink hears nothing more.
    void setSink(std::function<void(std::string_view)> sink);
    /// Delivers everything already in the pipe, then waits until it has been quiet for `quiet`
    /// (at most 10 × quiet in all): a session reused for another step must not hand this step's
    /// last lines to the next one's log.
    void drain(std::chrono::milliseconds quiet);
    /// Forgets the remembered tail, so errors of a reused session name only its new trouble.
    void clearTail();
    /// Waits until the pipe has ended (the child and its heirs closed it); false on timeout.
    bool waitForEnd(std::chrono::milliseconds timeout);
    /// The last `lines` non-empty lines read so far, joined by "; ", control characters dropped.
    std::string tail(size_t lines) const;
    /// Stops reading (at the latest after one poll interval) and joins the thread.
    void stop();

private:
    struct State {
        std::string tail;
        bool ended = false;
    };
    void run(const std::stop_token& stop);
    void record(std::string_view chunk);
    /// Reads what is there now; false at the end of the pipe or on an error. Holds deliver_.
    bool readAvailable();

    int fd_;
    // Held while a chunk is read and delivered, so a sink swap or a drain never interleaves
    // with the reader thread's delivery.
    std::mutex deliver_;
    std::function<void(std::string_view)> sink_;
    mutable Sync<State> state_;
    std::condition_variable endedCv_;
    std::jthread thread_; // last: starts once everything it uses exists
};

} // namespace hydra::nix

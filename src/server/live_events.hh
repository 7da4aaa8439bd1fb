#pragma once
// LiveEvents: the farm's recent events as hydra-server heard them (steps, builds, evaluations,
// machines), numbered, for live pages and log followers to wait on without asking the database.

#include "util/sync.hh"

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <vector>

namespace hydra::server {

/// One event: the channel it came on and its payload's tab-separated fields.
struct LiveEvent {
    uint64_t seq = 0;
    std::string channel;             ///< Hydra's channel name, or LiveEvents::resync
    std::vector<std::string> fields; ///< the payload's fields, unchecked

    /// The field at `i` as a positive id, or 0 when absent or not a number.
    int64_t id(size_t i) const;
    /// True when any field is `id` (build_finished names a build and those that ended with it).
    bool names(int64_t id) const;
};

/// The last events, each with a sequence number one above the one before. Thread-safe.
class LiveEvents {
public:
    /// Told to every waiter when events may have been missed (the database connection was lost,
    /// or a waiter fell more than `keep` events behind): what it shows must be read again.
    static constexpr const char* resync = "resync";

    explicit LiveEvents(size_t keep = 4096);

    /// Adds an event and wakes every waiter.
    void publish(std::string channel, std::vector<std::string> fields);

    /// The events after `afterSeq`, waiting up to `timeout` for one; empty after the timeout or
    /// once stopped. A waiter that fell behind the kept events gets a resync event first.
    std::vector<LiveEvent> after(uint64_t afterSeq, std::chrono::milliseconds timeout);

    /// Calls `f` on each event kept now, oldest first, under the lock (no copy of the ring: `f`
    /// must be quick and must not call back into this object).
    void visit(const std::function<void(const LiveEvent&)>& f);

    /// The number of the newest event (0 before the first).
    uint64_t lastSeq();

    /// Wakes every waiter for good: the server is stopping and its streams must end.
    void stop();
    bool stopped();

private:
    struct State {
        std::deque<LiveEvent> kept;
        uint64_t seq = 0;
        bool stopped = false;
    };
    const size_t keep_;
    Sync<State> state_;
    std::condition_variable changed_;
};

} // namespace hydra::server

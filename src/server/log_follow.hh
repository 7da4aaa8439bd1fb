#pragma once
// Following a running step's log: its text as it is written, until the step is over.

#include "server/log_tail.hh"

#include <chrono>
#include <functional>
#include <string_view>

namespace hydra::server {

/// What a follower knows of the step writing the log: cheap waits for news, and whether it ended.
class StepWatch {
public:
    virtual ~StepWatch() = default;
    /// Returns when something may have happened to the step, or after `timeout`.
    virtual void wait(std::chrono::milliseconds timeout) = 0;
    /// True once the step is over (or following has to stop: the server is stopping).
    virtual bool ended() = 0;
};

/// Receives the log: a chunk and the offset after it; an empty chunk is a sign of life while the
/// log is quiet, and `restart` says the log began again from offset 0. False: the reader left.
struct FollowSink {
    std::function<bool(std::string_view chunk, uint64_t offsetAfter)> text;
    std::function<bool()> restart;
};

/// How following ended.
enum class FollowEnd { StepEnded, ReaderLeft };

/// How often a quiet log is looked at, and how often a quiet follower is told the stream lives.
struct FollowTiming {
    std::chrono::milliseconds poll{200};
    std::chrono::milliseconds keepAlive{15000};
};

/// Hands `tail`'s text to `sink` as it is written, until `watch` says the step ended (then the
/// rest of the file) or the sink refuses.
FollowEnd followLog(LogTail& tail, StepWatch& watch, const FollowSink& sink, FollowTiming timing = {});

} // namespace hydra::server

#include "server/log_follow.hh"

namespace hydra::server {

namespace {
constexpr size_t chunkBytes = size_t{64} * 1024;
} // namespace

FollowEnd followLog(LogTail& tail, StepWatch& watch, const FollowSink& sink, FollowTiming timing)
{
    auto quietSince = std::chrono::steady_clock::now();
    for (;;) {
        // Whether the step ended is asked before reading: what it wrote before ending is then
        // all in the file, and the last read takes it.
        bool ended = watch.ended();
        for (;;) {
            auto chunk = tail.next(chunkBytes, ended);
            if (tail.restarted() && sink.restart && !sink.restart()) return FollowEnd::ReaderLeft;
            if (chunk.empty()) break;
            if (!sink.text(chunk, tail.offset())) return FollowEnd::ReaderLeft;
            quietSince = std::chrono::steady_clock::now();
        }
        if (ended) return FollowEnd::StepEnded;
        if (std::chrono::steady_clock::now() - quietSince >= timing.keepAlive) {
            if (!sink.text({}, tail.offset())) return FollowEnd::ReaderLeft;
            quietSince = std::chrono::steady_clock::now();
        }
        watch.wait(timing.poll);
    }
}

} // namespace hydra::server

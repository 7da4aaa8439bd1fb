#pragma once
// LiveStepWatch: a log follower's view of its step, from the server's live events, with the
// database asked only when an event may concern the step.

#include "server/log_follow.hh"

#include <chrono>
#include <cstdint>

namespace hydra::server {

class Site;
struct LiveEvent;

/// Step `stepNr` of build `buildId` as the farm's notifications tell of it.
class LiveStepWatch : public StepWatch {
public:
    LiveStepWatch(const Site& site, int64_t buildId, int stepNr);

    void wait(std::chrono::milliseconds timeout) override;
    bool ended() override;

private:
    bool concerns(const LiveEvent& e) const;

    const Site& site_;
    const int64_t buildId_;
    const int stepNr_;
    uint64_t seq_;
    bool dirty_ = true; ///< an event may have ended the step (or none was seen yet): ask the database
    bool ended_ = false;
    std::chrono::steady_clock::time_point lastCheck_;
};

} // namespace hydra::server

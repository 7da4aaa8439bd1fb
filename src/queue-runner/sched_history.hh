#pragma once
// Start-up seeding of fair share and expected durations from the steps of the recent past
// (BuildSteps), so that a restarted runner neither hands the next free slots to a jobset that
// has just used hours of build time nor forgets how long its jobs take.
//
// Pure: the caller reads the steps from the database and passes the time.

#include "queue-runner/fair_share.hh"
#include "queue-runner/sched_durations.hh"
#include "util/clock.hh"

#include <cstdint>
#include <span>
#include <string>

namespace hydra::qr {

/// A step that ran in the recent past, as the seeding needs it.
struct PastStep {
    JobsetId jobset = 0;
    std::string durationKey; ///< the step graph's key: job name for a build's own step, else drv name
    bool succeeded = false;
    int64_t startTime = 0; ///< Unix seconds
    int64_t stopTime = 0;
};

/// The duration key a step graph gives a build's own step ("project:jobset:job").
std::string jobDurationKey(const std::string& project, const std::string& jobset, const std::string& job);

/// Charges each step's run time to its jobset at its stop, as the runner does live, so it
/// expires one window after the step stopped. A stop in the future (clock skew) counts as now.
void seedFairShare(FairShare& share, std::span<const PastStep> steps, Clock::TimePoint now, int64_t nowUnix);

/// Folds the run times of the successful steps, in the order given (stop order), into the
/// expectations of their keys, as if the runner had seen them finish.
void seedDurations(DurationHistory& history, std::span<const PastStep> steps);

} // namespace hydra::qr

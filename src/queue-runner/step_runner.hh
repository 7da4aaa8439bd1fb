#pragma once
// StepRunner: one dispatched step from its BuildSteps row to the builds it finishes.

#include "nix/gc_roots.hh"
#include "queue-runner/build_queue.hh"
#include "queue-runner/machine_registry.hh"
#include "queue-runner/step_build.hh"
#include "queue-runner/step_executor.hh"
#include "queue-runner/step_policy.hh"
#include "queue-runner/step_records.hh"
#include "queue-runner/step_stages.hh"

#include <filesystem>
#include <functional>
#include <stop_token>

namespace hydra::qr {

/// The limits and retry policy every step runs with (hydra.conf, read once).
struct StepRunnerOptions {
    std::filesystem::path logDir; ///< $HYDRA_DATA/build-logs
    uint64_t maxLogSize = 64ULL << 20;
    uint64_t maxOutputSize = 2ULL << 30;
    bool useSubstitutes = false;
    RetryPolicy retry; ///< transient failures; also the wait before a step whose record failed
};

/// Stops running steps that no build needs any more (the dispatcher owns the step threads).
using StepCanceller = std::function<void(const std::vector<std::string>& drvPaths)>;

/// Runs steps and records them: BuildSteps rows, finished Builds, FailedPaths, GC roots, the
/// notifications, the machine's health and the queue. Usable from many threads at once.
///
/// The order is the point: the database first, then the queue, so that a failed commit leaves
/// both as they were (the step goes back to the queue); what a step's end means comes from
/// step_policy.hh.
class StepRunner final : public StepExecutor {
public:
    StepRunner(BuildQueue& queue, StepRecords& records, StepBuild& builder, const nix::GcRoots& roots,
               const Clock& clock, StepRunnerOptions opts, StepCanceller cancel);

    /// Runs one dispatched step to its end on the slot's machine. Never throws: trouble is
    /// recorded (and logged) as the step's outcome.
    void run(const std::string& drvPath, MachineSlot slot, const std::stop_token& stop) override;

    /// Fails a step no machine supports (status 9) and the builds that need it.
    void failUnsupported(const std::string& drvPath) override;

    void closeIdle() override { builder_.closeIdle(); }

    /// Set once, before any step runs: where running steps' stages and copied bytes are told.
    void setStages(StepStages* stages) { stages_ = stages; }
    /// Set once, before any step runs: asked to load the queue from the database again when
    /// the queue dropped builds that no commit of ours finished (see lateJoiners).
    void setResync(std::function<void()> resync) { resync_ = std::move(resync); }

private:
    struct Attempt; // one run of a step: its work, row and timing
    StepJob jobOf(const Attempt& a, const MachineSlot& slot) const;
    /// After an error in the middle of a step: marks its row aborted, if it has one.
    void abandonRow(const Attempt& a) noexcept;
    void record(Attempt& a, const StepOutcome& outcome, MachineState& machine, const std::stop_token& stop);
    void recordSuccess(Attempt& a, const StepOutcome& outcome);
    void recordFailure(Attempt& a, const StepOutcome& outcome, db::BuildStatus status);
    void recordRetry(Attempt& a, const StepOutcome& outcome, Clock::Duration delay);
    void recordStopped(Attempt& a, const StepOutcome& outcome);
    db::StepFinish finishOf(const Attempt& a, const StepOutcome& outcome, db::BuildStatus status) const;
    void lateJoiners(const std::string& drvPath, const std::vector<db::QueuedBuild>& committed,
                     const std::vector<BuildId>& dropped);

    BuildQueue& queue_;
    StepRecords& records_;
    StepBuild& builder_;
    const nix::GcRoots& roots_;
    const Clock& clock_;
    StepRunnerOptions opts_;
    StepCanceller cancel_;
    StepStages* stages_ = nullptr;
    std::function<void()> resync_;
};

} // namespace hydra::qr

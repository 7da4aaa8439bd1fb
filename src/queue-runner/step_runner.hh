#pragma once
// StepRunner: one dispatched step from its BuildSteps row to the builds it finishes.

#include "db/build_steps.hh"
#include "db/connection_pool.hh"
#include "nix/gc_roots.hh"
#include "queue-runner/build_queue.hh"
#include "queue-runner/machine_registry.hh"
#include "queue-runner/session_pool.hh"
#include "queue-runner/step_builder.hh"
#include "queue-runner/step_executor.hh"
#include "queue-runner/step_policy.hh"
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
    nix::ConnectionOptions connection; ///< how machines are reached
    /// How long a machine's session may sit unused before it is closed (0: never kept).
    std::chrono::seconds sessionMaxIdle{60};
    /// How long a session may live before it is closed at its next release (see SessionPool).
    std::chrono::seconds sessionMaxAge{600};
    /// How many sessions with the local store stay open for copies between steps.
    unsigned localSessionsKept = 4;
};

/// Stops running steps that no build needs any more (the dispatcher owns the step threads).
using StepCanceller = std::function<void(const std::vector<std::string>& drvPaths)>;

/// Runs steps and records them: BuildSteps rows, finished Builds, FailedPaths, GC roots, the
/// notifications, the machine's health and the queue. Usable from many threads at once.
class StepRunner final : public StepExecutor {
public:
    StepRunner(db::ConnectionPool& pool, BuildQueue& queue, const nix::GcRoots& roots, const Clock& clock,
               StepRunnerOptions opts, StepCanceller cancel);

    /// Runs one dispatched step to its end on the slot's machine. Never throws: trouble is
    /// recorded (and logged) as the step's outcome.
    void run(const std::string& drvPath, MachineSlot slot, const std::stop_token& stop) override;

    /// Fails a step no machine supports (status 9) and the builds that need it.
    void failUnsupported(const std::string& drvPath) override;

    /// Closes machine sessions left unused for too long (called regularly by the dispatcher).
    void closeIdle() override { sessions_.closeIdle(); }
    /// Sessions with the local store from the same pool, for the runner's other local queries:
    /// they end when idle like the steps' own.
    nix::LocalStoreSessions& localSessions() { return localSessions_; }

    /// Set once, before any step runs: where running steps' stages and copied bytes are told.
    void setStages(StepStages* stages) { stages_ = stages; }
    /// Set once, before any step runs: asked to load the queue from the database again when
    /// the queue dropped builds that no commit of ours finished (see lateJoiners).
    void setResync(std::function<void()> resync) { resync_ = std::move(resync); }

private:
    struct Attempt; // one run of a step: its work, row and timing
    int startRow(const StepWork& work, const std::string& drvPath, const std::string& machine, int64_t start);
    /// After an error in the middle of a step: marks its row aborted, if it has one.
    void abandonRow(const Attempt& a) noexcept;
    void record(Attempt& a, const StepOutcome& outcome, MachineState& machine, const std::stop_token& stop);
    void recordSuccess(Attempt& a, const StepOutcome& outcome);
    void recordFailure(Attempt& a, const StepOutcome& outcome, db::BuildStatus status);
    void recordRetry(Attempt& a, const StepOutcome& outcome, Clock::Duration delay);
    void recordStopped(Attempt& a, const StepOutcome& outcome, const std::stop_token& stop);
    db::StepFinish finishOf(const Attempt& a, const StepOutcome& outcome, db::BuildStatus status) const;
    void lateJoiners(const std::string& drvPath, const std::vector<db::QueuedBuild>& committed,
                     const std::vector<db::QueuedBuild>& dropped);

    db::ConnectionPool& pool_;
    BuildQueue& queue_;
    const nix::GcRoots& roots_;
    const Clock& clock_;
    StepRunnerOptions opts_;
    StepCanceller cancel_;
    SessionPool sessions_;        // before its users below
    LocalSessions localSessions_; // copies to and from build machines
    StepBuilder builder_;
    StepStages* stages_ = nullptr;
    std::function<void()> resync_;
};

} // namespace hydra::qr

#include "queue-runner/step_runner.hh"

#include "queue-runner/build_log.hh"
#include "queue-runner/build_outcome.hh"
#include "queue-runner/db_records.hh"
#include "util/logging.hh"

#include <optional>
#include <set>

namespace hydra::qr {

struct StepRunner::Attempt {
    std::string drvPath;
    StepWork work;
    std::string machine;
    int stepNr = 0;
    int64_t start = 0;
    Clock::TimePoint began{};
};

namespace {

/// The BuildStepOutputs rows a step starts with: the outputs whose path its .drv fixes (the
/// table has no row without a path).
std::vector<db::StepOutput> declaredOutputs(const nix::Derivation& drv)
{
    std::vector<db::StepOutput> out;
    for (const auto& [name, o] : drv.outputs)
        if (!o.path.empty()) out.push_back({name, o.path});
    return out;
}

log::Context contextOf(db::BuildId build, int step, const std::string& machine)
{
    return {.build = build, .step = step, .machine = machine};
}

std::vector<db::BuildId> idsOf(const std::vector<db::QueuedBuild>& builds)
{
    std::vector<db::BuildId> ids;
    ids.reserve(builds.size());
    for (const auto& b : builds) ids.push_back(b.id);
    return ids;
}

} // namespace

StepRunner::StepRunner(BuildQueue& queue, StepRecords& records, StepBuild& builder, const nix::GcRoots& roots,
                       const Clock& clock, StepRunnerOptions opts, StepCanceller cancel)
    : queue_(queue), records_(records), builder_(builder), roots_(roots), clock_(clock),
      opts_(std::move(opts)), cancel_(std::move(cancel))
{}

StepJob StepRunner::jobOf(const Attempt& a, const MachineSlot& slot) const
{
    return StepJob{.buildId = a.work.build.id,
                   .stepNr = a.stepNr,
                   .drvPath = a.drvPath,
                   .drv = a.work.drv,
                   .maxSilent = static_cast<uint64_t>(std::max(a.work.build.maxSilent, 0)),
                   .timeout = static_cast<uint64_t>(std::max(a.work.build.timeout, 0)),
                   .maxLogSize = opts_.maxLogSize,
                   .maxOutputSize = opts_.maxOutputSize,
                   .logPath = buildLogPath(opts_.logDir, a.drvPath),
                   .sharedStore = slot.machine().kind == nix::MachineKind::Localhost,
                   .useSubstitutes = opts_.useSubstitutes,
                   .machine = a.machine};
}

void StepRunner::run(const std::string& drvPath, MachineSlot slot, const std::stop_token& stop)
{
    auto work = queue_.work(drvPath);
    if (!work) return; // every build that wanted it went away meanwhile
    Attempt a{.drvPath = drvPath, .work = std::move(*work), .machine = slot.name()};
    a.began = clock_.now();
    a.start = clock_.unixTime();
    std::optional<StepStages::Entry> stage;
    if (stages_) stage.emplace(stages_->begin());
    try {
        // build_started goes to every build whose own derivation this step builds, at each
        // start of it (a retry included), as Hydra sends it; not for the dependencies before.
        a.stepNr = records_.start({.build = a.work.build.id,
                                   .drvPath = drvPath,
                                   .system = a.work.drv.platform,
                                   .machine = a.machine,
                                   .busy = db::StepBusy::Connecting,
                                   .startTime = a.start,
                                   .outputs = declaredOutputs(a.work.drv)},
                                  idsOf(queue_.finishing(drvPath, true).succeeded));
        log::event(log::Level::Info, contextOf(a.work.build.id, a.stepNr, a.machine), "building {}", drvPath);
        // The row starts at Connecting: only a change of stage is written.
        auto written = db::StepBusy::Connecting;
        auto progress = [&](db::StepBusy busy) {
            if (stage) stage->set(busy);
            if (busy == written) return;
            written = busy;
            records_.stage(a.work.build.id, a.stepNr, busy);
        };
        auto outcome = builder_.build(jobOf(a, slot), slot, progress, stop);
        if (stages_) stages_->addBytes(outcome.bytesSent, outcome.bytesReceived);
        record(a, outcome, slot.state(), stop);
    } catch (const std::exception& e) {
        // The database is the likely culprit; the step goes back to the queue, without
        // counting as a try: a stretch of database trouble must not use up the tries a later
        // failure of a machine may need. Its row must not stay busy until the next start-up,
        // if the database lets us say so now.
        log::event(log::Level::Error, contextOf(a.work.build.id, a.stepNr, a.machine), "step {} failed: {}",
                   drvPath, e.what());
        abandonRow(a);
        queue_.requeue(drvPath, opts_.retry.interval);
    }
}

void StepRunner::abandonRow(const Attempt& a) noexcept
{
    if (a.stepNr == 0) return;
    try {
        records_.abandon(a.work.build.id, a.stepNr, clock_.unixTime());
    } catch (const std::exception& e) {
        log::event(log::Level::Warn, contextOf(a.work.build.id, a.stepNr, a.machine),
                   "step row stays busy until the next start-up: {}", e.what());
    }
}

void StepRunner::record(Attempt& a, const StepOutcome& outcome, MachineState& machine,
                        const std::stop_token& stop)
{
    auto elapsed = clock_.now() - a.began;
    machine.recordStepDone({.total = elapsed,
                            .build = elapsed - std::chrono::milliseconds(outcome.overheadMs),
                            .overhead = std::chrono::milliseconds(outcome.overheadMs)});
    auto decision = decideStepEnd({.stopRequested = stop.stop_requested(),
                                   .outputsValid = outcome.outputsValid(),
                                   .transient = outcome.transient,
                                   .tries = a.work.tries},
                                  opts_.retry);
    if (decision.machine == StepDecision::Health::Sound) machine.recordSuccess();
    if (decision.machine == StepDecision::Health::Failing) machine.recordFailure(outcome.errorMsg);
    switch (decision.verdict) {
    case StepVerdict::Stopped: return recordStopped(a, outcome);
    case StepVerdict::Succeeded: return recordSuccess(a, outcome);
    case StepVerdict::Retry: return recordRetry(a, outcome, decision.delay);
    case StepVerdict::Failed: return recordFailure(a, outcome, outcome.status);
    }
}

db::StepFinish StepRunner::finishOf(const Attempt& a, const StepOutcome& outcome,
                                    db::BuildStatus status) const
{
    return db::StepFinish{.status = status,
                          .errorMsg = outcome.errorMsg,
                          .startTime = outcome.startTime ? outcome.startTime : a.start,
                          .stopTime = outcome.stopTime ? outcome.stopTime : clock_.unixTime(),
                          .machine = a.machine,
                          .overheadMs = static_cast<int64_t>(outcome.overheadMs),
                          .timesBuilt = static_cast<int>(outcome.timesBuilt),
                          .isNonDeterministic = outcome.isNonDeterministic,
                          .logPath = outcome.logPath.string(),
                          .outputs = stepOutputRows(outcome.outputs)};
}

void StepRunner::recordSuccess(Attempt& a, const StepOutcome& outcome)
{
    auto duration = std::chrono::duration_cast<std::chrono::seconds>(clock_.now() - a.began);
    for (const auto& [name, path] : outcome.outputs) roots_.add(path);
    // The database first: if the commit fails, run() puts the step back and the queue still
    // has it and its builds, as the database does.
    auto finishing = queue_.finishing(a.drvPath, true);
    std::vector<db::SucceededBuild> done;
    for (const auto& b : finishing.succeeded) {
        db::SucceededBuild s{.id = b.id,
                             .failedWithOutput = outcome.status == db::BuildStatus::FailedWithOutput,
                             .startTime = a.start,
                             .stopTime = clock_.unixTime(),
                             .size = static_cast<int64_t>(outcome.size),
                             .closureSize = static_cast<int64_t>(outcome.closureSize),
                             .releaseName = outcome.releaseName,
                             .products = productRows(outcome.products),
                             .metrics = metricRows(outcome.metrics)};
        for (const auto& [name, path] : outcome.outputs) s.outputs.push_back({name, path});
        done.push_back(std::move(s));
    }
    records_.succeeded(a.work.build.id, a.stepNr, finishOf(a, outcome, outcome.stepStatus()), done);
    auto finished = queue_.succeeded(a.drvPath, duration);
    for (const auto& b : finishing.succeeded)
        log::event(log::Level::Info, contextOf(b.id, 0, a.machine), "build finished: success");
    lateJoiners(a.drvPath, finishing.succeeded, finished.succeeded);
    if (!finished.orphanedRunning.empty()) cancel_(finished.orphanedRunning);
}

void StepRunner::recordFailure(Attempt& a, const StepOutcome& outcome, db::BuildStatus status)
{
    auto duration = std::chrono::duration_cast<std::chrono::seconds>(clock_.now() - a.began);
    auto finish = finishOf(a, outcome, status);
    db::StepFailure failure{.buildId = a.work.build.id,
                            .drvPath = a.drvPath,
                            .system = a.work.drv.platform,
                            .stepStatus = status,
                            .errorMsg = outcome.errorMsg,
                            .machine = a.machine,
                            .startTime = finish.startTime,
                            .stopTime = finish.stopTime,
                            .outputs = finish.outputs};
    // Only a failure of the derivation itself may fail later builds of it at once.
    if (outcome.canCache)
        for (const auto& [name, o] : a.work.drv.outputs) failure.failedPaths.push_back(o.path);
    // The database first, as in recordSuccess.
    auto finishing = queue_.finishing(a.drvPath, false);
    std::vector<db::DependentBuild> builds;
    for (const auto& b : finishing.failed) builds.push_back({b.id, b.drvPath});
    records_.failed(a.work.build.id, a.stepNr, finish, failure, builds);
    auto finished = queue_.failed(a.drvPath, duration);
    log::event(log::Level::Info, contextOf(a.work.build.id, a.stepNr, a.machine), "step {} failed ({}): {}",
               a.drvPath, db::buildStatusName(status), firstLine(outcome.errorMsg));
    lateJoiners(a.drvPath, finishing.failed, finished.failed);
    if (!finished.orphanedRunning.empty()) cancel_(finished.orphanedRunning);
}

void StepRunner::lateJoiners(const std::string& drvPath, const std::vector<db::QueuedBuild>& committed,
                             const std::vector<BuildId>& dropped)
{
    // A build added between the commit and the queue's update went with the step without a
    // row saying so: the database still has it queued, and a fresh look at the queue finds
    // it again (then as a cached success or failure).
    std::set<db::BuildId> recorded;
    for (const auto& b : committed) recorded.insert(b.id);
    bool missed = false;
    for (BuildId id : dropped) {
        if (recorded.contains(id)) continue;
        missed = true;
        log::event(log::Level::Warn, contextOf(id, 0, ""), "joined step {} as it ended; loading it again",
                   drvPath);
    }
    if (missed && resync_) resync_();
}

void StepRunner::recordRetry(Attempt& a, const StepOutcome& outcome, Clock::Duration delay)
{
    records_.ended(a.work.build.id, a.stepNr, finishOf(a, outcome, db::BuildStatus::Aborted));
    log::event(log::Level::Warn, contextOf(a.work.build.id, a.stepNr, a.machine),
               "step {} will be retried in {} s (attempt {} of {}): {}", a.drvPath,
               std::chrono::duration_cast<std::chrono::seconds>(delay).count(), a.work.tries + 1,
               opts_.retry.maxTries, firstLine(outcome.errorMsg));
    queue_.retry(a.drvPath, delay);
}

void StepRunner::recordStopped(Attempt& a, const StepOutcome& outcome)
{
    // No build needs the step any more (cancelled, deleted): the row ends cancelled, as
    // Hydra records it. Otherwise the runner is shutting down: the row ends aborted and the
    // step stays queued for the next run.
    bool wanted = queue_.containsStep(a.drvPath);
    auto finish = finishOf(a, outcome, wanted ? db::BuildStatus::Aborted : db::BuildStatus::Cancelled);
    if (finish.errorMsg.empty())
        finish.errorMsg =
            wanted ? "stopped: the queue runner is shutting down" : "stopped: no build needs it any more";
    records_.ended(a.work.build.id, a.stepNr, finish);
    if (wanted) queue_.requeue(a.drvPath);
}

void StepRunner::failUnsupported(const std::string& drvPath)
{
    auto work = queue_.work(drvPath);
    if (!work) return;
    auto now = clock_.unixTime();
    std::string why =
        fmt::format("no machine supports system ‘{}’ with the features this step needs", work->drv.platform);
    auto finishing = queue_.finishing(drvPath, false);
    std::vector<db::DependentBuild> builds;
    for (const auto& b : finishing.failed) builds.push_back({b.id, b.drvPath});
    try {
        // failBuilds records the step row (status 9) for the build itself, as Hydra does.
        records_.failed(work->build.id, 0, {},
                        db::StepFailure{.buildId = work->build.id,
                                        .drvPath = drvPath,
                                        .system = work->drv.platform,
                                        .stepStatus = db::BuildStatus::Unsupported,
                                        .errorMsg = why,
                                        .startTime = now,
                                        .stopTime = now},
                        builds);
    } catch (const std::exception& e) {
        // Still queued in the database: the step waits in the queue to be reported again.
        log::event(log::Level::Error, contextOf(work->build.id, 0, ""),
                   "step {} is unsupported, but recording it failed: {}", drvPath, e.what());
        queue_.requeue(drvPath, opts_.retry.interval);
        return;
    }
    auto finished = queue_.failed(drvPath, std::chrono::seconds(0));
    log::event(log::Level::Warn, contextOf(work->build.id, 0, ""), "step {} is unsupported: {}", drvPath,
               why);
    lateJoiners(drvPath, finishing.failed, finished.failed);
}

} // namespace hydra::qr

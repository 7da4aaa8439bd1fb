#pragma once
// SubstitutionWorker: the thread that fetches builds' missing outputs from the substituters
// (use-substitutes) and records them as substitution steps.
//
// Why a thread of its own: a substitution is a download of unknown length. Run by the queue
// monitor itself (as Hydra does) it would hold up every other new build, cancel and bump
// behind it. So the monitor hands a build with missing derivations to this worker and goes
// on; the worker tries them (see substituteDerivations), writes a BuildSteps row of type 1
// per fetched output, and hands the build back through `done`; the monitor then discovers
// its steps again, and what was fetched is valid and no longer a step. Every wait is bounded:
// each batch by SubstituterOptions::timeout, and stopping kills the download at once.
// Builds are worked through one at a time, in the order they came.

#include "db/connection_pool.hh"
#include "db/queue_store.hh"
#include "queue-runner/local_substituter.hh"
#include "queue-runner/step_discovery.hh"
#include "util/clock.hh"
#include "util/sync.hh"

#include <condition_variable>
#include <deque>
#include <functional>
#include <stop_token>

namespace hydra::qr {

/// A build whose missing derivations are to be tried from the substituters.
struct SubstitutionJob {
    db::QueuedBuild build;
    Discovery discovery;
};

/// Fetches builds' missing outputs one build at a time; see the file comment.
class SubstitutionWorker {
public:
    /// `done` is called on the worker's thread once per submitted build, whatever happened.
    SubstitutionWorker(db::ConnectionPool& pool, const Clock& clock, SubstituterOptions opts,
                       std::function<void(const db::QueuedBuild&)> done);

    /// Queues a build (any thread).
    void submit(SubstitutionJob job);
    /// Works through submitted builds until `stop`; builds still waiting then are dropped
    /// (they stay queued in the database for the next start).
    void run(const std::stop_token& stop);

private:
    void work(const SubstitutionJob& job, const std::stop_token& stop);

    db::ConnectionPool& pool_;
    const Clock& clock_;
    LocalSubstituter store_;
    std::function<void(const db::QueuedBuild&)> done_;
    Sync<std::deque<SubstitutionJob>> jobs_;
    std::condition_variable wake_;
};

} // namespace hydra::qr

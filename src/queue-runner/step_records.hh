#pragma once
// StepRecords: the database writes of a step's life, behind an interface so that the step
// runner's order of writes and queue changes can be tested without PostgreSQL.

#include "db/build_results.hh"
#include "db/build_steps.hh"
#include "db/connection_pool.hh"

#include <vector>

namespace hydra::qr {

/// Records steps and the builds they finish; each call is one transaction, all or nothing.
class StepRecords {
public:
    virtual ~StepRecords() = default;
    /// Inserts the step's row (busy, connecting) under `step.build` and sends build_started to
    /// `topLevelOf`, the builds whose own derivation the step builds. Returns the step number.
    virtual int start(const db::NewStep& step, const std::vector<db::BuildId>& topLevelOf) = 0;
    /// The step entered another busy stage.
    virtual void stage(db::BuildId build, int stepNr, db::StepBusy busy) = 0;
    /// The step built: its row, and the builds whose top-level step it was, succeeded.
    virtual void succeeded(db::BuildId build, int stepNr, const db::StepFinish& finish,
                           const std::vector<db::SucceededBuild>& builds) = 0;
    /// The step failed for good: its row (if `stepNr`, else none was made) and every build
    /// needing it (see db::failBuilds).
    virtual void failed(db::BuildId build, int stepNr, const db::StepFinish& finish,
                        const db::StepFailure& failure, const std::vector<db::DependentBuild>& builds) = 0;
    /// The attempt ended without a verdict on the builds (a retry, a stop): its row alone.
    virtual void ended(db::BuildId build, int stepNr, const db::StepFinish& finish) = 0;
    /// After an error in the middle of a step: its row, still busy, is marked aborted.
    virtual void abandon(db::BuildId build, int stepNr, int64_t stopTime) = 0;
};

/// StepRecords in PostgreSQL, through the connection pool.
class PgStepRecords final : public StepRecords {
public:
    explicit PgStepRecords(db::ConnectionPool& pool) : pool_(pool) {}

    int start(const db::NewStep& step, const std::vector<db::BuildId>& topLevelOf) override;
    void stage(db::BuildId build, int stepNr, db::StepBusy busy) override;
    void succeeded(db::BuildId build, int stepNr, const db::StepFinish& finish,
                   const std::vector<db::SucceededBuild>& builds) override;
    void failed(db::BuildId build, int stepNr, const db::StepFinish& finish, const db::StepFailure& failure,
                const std::vector<db::DependentBuild>& builds) override;
    void ended(db::BuildId build, int stepNr, const db::StepFinish& finish) override;
    void abandon(db::BuildId build, int stepNr, int64_t stopTime) override;

private:
    db::ConnectionPool& pool_;
};

} // namespace hydra::qr

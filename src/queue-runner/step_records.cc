#include "queue-runner/step_records.hh"

#include "db/queue_notify.hh"

namespace hydra::qr {

int PgStepRecords::start(const db::NewStep& step, const std::vector<db::BuildId>& topLevelOf)
{
    return pool_.withTransaction([&](pqxx::work& t) {
        for (db::BuildId b : topLevelOf) db::notifyBuildStarted(t, b);
        return db::createBuildStep(t, step);
    });
}

void PgStepRecords::stage(db::BuildId build, int stepNr, db::StepBusy busy)
{
    pool_.withTransaction([&](pqxx::work& t) { db::updateBuildStep(t, build, stepNr, busy); });
}

void PgStepRecords::succeeded(db::BuildId build, int stepNr, const db::StepFinish& finish,
                              const std::vector<db::SucceededBuild>& builds)
{
    pool_.withTransaction([&](pqxx::work& t) {
        db::finishBuildStep(t, build, stepNr, finish);
        for (const auto& b : builds) db::markSucceededBuild(t, b);
    });
}

void PgStepRecords::failed(db::BuildId build, int stepNr, const db::StepFinish& finish,
                           const db::StepFailure& failure, const std::vector<db::DependentBuild>& builds)
{
    pool_.withTransaction([&](pqxx::work& t) {
        if (stepNr != 0) db::finishBuildStep(t, build, stepNr, finish);
        db::failBuilds(t, failure, builds);
    });
}

void PgStepRecords::ended(db::BuildId build, int stepNr, const db::StepFinish& finish)
{
    pool_.withTransaction([&](pqxx::work& t) { db::finishBuildStep(t, build, stepNr, finish); });
}

void PgStepRecords::abandon(db::BuildId build, int stepNr, int64_t stopTime)
{
    pool_.withTransaction([&](pqxx::work& t) { db::abortBusyStep(t, build, stepNr, stopTime); });
}

} // namespace hydra::qr

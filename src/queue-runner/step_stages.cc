#include "queue-runner/step_stages.hh"

#include <nlohmann/json.hpp>
#include <string>

namespace hydra::qr {

StepStages::Entry::~Entry()
{
    if (stages_) stages_->tally_.lock()->running.erase(id_);
}

void StepStages::Entry::set(db::StepBusy busy)
{
    if (stages_) stages_->tally_.lock()->running[id_] = busy;
}

StepStages::Entry StepStages::begin()
{
    auto t = tally_.lock();
    uint64_t id = t->nextId++;
    t->running[id] = db::StepBusy::Connecting;
    return {*this, id};
}

void StepStages::addBytes(uint64_t sent, uint64_t received)
{
    bytesSent_ += sent;
    bytesReceived_ += received;
}

nlohmann::json StepStages::statusJson() const
{
    std::map<db::StepBusy, size_t> counts;
    for (auto b : {db::StepBusy::Preparing, db::StepBusy::Connecting, db::StepBusy::SendingInputs,
                   db::StepBusy::Building, db::StepBusy::WaitingForLocalSlot, db::StepBusy::ReceivingOutputs,
                   db::StepBusy::PostProcessing})
        counts[b] = 0;
    for (const auto& [id, busy] : tally_.lock()->running) ++counts[busy];
    nlohmann::json byStage = nlohmann::json::object();
    for (const auto& [busy, n] : counts) byStage[std::string(db::stepBusyName(busy))] = n;
    return {{"activeStepsByStage", byStage},
            {"nrStepsBuilding", counts[db::StepBusy::Building]},
            {"nrStepsCopyingTo", counts[db::StepBusy::SendingInputs]},
            {"nrStepsCopyingFrom", counts[db::StepBusy::ReceivingOutputs]},
            {"bytesSent", bytesSent_.load()},
            {"bytesReceived", bytesReceived_.load()}};
}

} // namespace hydra::qr

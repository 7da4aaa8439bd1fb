#include "db/queue_notify.hh"

#include <pqxx/pqxx>

#include "util/error.hh"

namespace hydra::db {

namespace {

void notify(pqxx::transaction_base& t, std::string_view channel, std::string_view payload)
{
    t.exec_params("SELECT pg_notify($1, $2)", std::string(channel), std::string(payload));
}

} // namespace

std::string buildFinishedPayload(BuildId id, std::span<const BuildId> dependents)
{
    std::string s = std::to_string(id);
    for (auto d : dependents) {
        s += '\t';
        s += std::to_string(d);
    }
    return s;
}

std::vector<std::string> buildFinishedPayloads(BuildId id, std::span<const BuildId> dependents)
{
    const std::string head = std::to_string(id);
    std::vector<std::string> parts{head};
    for (auto d : dependents) {
        std::string field = '\t' + std::to_string(d);
        // Each part names the build, so a listener can handle any part on its own.
        if (parts.back().size() + field.size() > buildFinishedPartLimit) parts.push_back(head);
        parts.back() += field;
    }
    return parts;
}

void notifyBuildStarted(pqxx::transaction_base& t, BuildId id)
{
    notify(t, channel::buildStarted, std::to_string(id));
}

void notifyStepStarted(pqxx::transaction_base& t, BuildId id, int stepNr)
{
    notify(t, channel::stepStarted, std::to_string(id) + '\t' + std::to_string(stepNr));
}

void notifyStepFinished(pqxx::transaction_base& t, BuildId id, int stepNr, std::string_view logPath)
{
    // A tab would shift the fields every listener splits on.
    if (logPath.find('\t') != std::string_view::npos)
        throw Error("log path '{}' of step {} of build {} contains a tab", logPath, stepNr, id);
    notify(t, channel::stepFinished,
           std::to_string(id) + '\t' + std::to_string(stepNr) + '\t' + std::string(logPath));
}

void notifyBuildFinished(pqxx::transaction_base& t, BuildId id, std::span<const BuildId> dependents)
{
    for (const auto& part : buildFinishedPayloads(id, dependents)) notify(t, channel::buildFinished, part);
}

void notifyDumpStatus(pqxx::transaction_base& t)
{
    notify(t, channel::dumpStatus, "");
}

void writeQueueRunnerStatus(pqxx::transaction_base& t, std::string_view json)
{
    t.exec_params("INSERT INTO SystemStatus (what, status) VALUES ('queue-runner', $1::json) "
                  "ON CONFLICT (what) DO UPDATE SET status = EXCLUDED.status",
                  std::string(json));
    notify(t, channel::statusDumped, "");
}

std::optional<std::string> readQueueRunnerStatus(pqxx::transaction_base& t)
{
    auto r = t.exec("SELECT status::text FROM SystemStatus WHERE what = 'queue-runner'");
    if (r.empty()) return std::nullopt;
    return r[0][0].as<std::string>();
}

void deleteQueueRunnerStatus(pqxx::transaction_base& t)
{
    t.exec("DELETE FROM SystemStatus WHERE what = 'queue-runner'");
}

} // namespace hydra::db

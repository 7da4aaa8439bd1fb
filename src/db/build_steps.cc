#include "db/build_steps.hh"

#include <pqxx/pqxx>

#include "db/queue_notify.hh"
#include "db/sql_values.hh"
#include "util/error.hh"

namespace hydra::db {

namespace {

std::optional<int> statusCode(const std::optional<BuildStatus>& s)
{
    if (!s) return std::nullopt;
    return static_cast<int>(*s);
}

template <class T> std::optional<T> nonZero(T v)
{
    if (v == 0) return std::nullopt;
    return v;
}

// Another creator may insert the same (build, stepnr) between our max() and our insert; the
// insert then does nothing and the next attempt sees the committed number. The bound only
// stops a runaway loop (e.g. under REPEATABLE READ, which raises a serialization error anyway).
constexpr int maxStepNrAttempts = 1000;

int insertStepRow(pqxx::transaction_base& t, const NewStep& s)
{
    bool running = !s.status;
    auto stopTime = s.stopTime;
    if (!running && !stopTime) stopTime = s.startTime; // a step recorded as done took no time
    for (int attempt = 0; attempt < maxStepNrAttempts; ++attempt) {
        auto r = t.exec_params(
            "INSERT INTO BuildSteps (build, stepnr, type, drvPath, busy, status, startTime, stopTime, "
            "  machine, system, errorMsg, propagatedFrom) "
            "SELECT $1::integer, COALESCE(MAX(stepnr), 0) + 1, $2::integer, $3::text, $4::integer, "
            "$5::integer, "
            "  $6::integer, $7::integer, $8::text, $9::text, $10::text, $11::integer "
            "FROM BuildSteps WHERE build = $1 "
            "ON CONFLICT DO NOTHING RETURNING stepnr",
            s.build, static_cast<int>(s.type), s.drvPath, running ? static_cast<int>(s.busy) : 0,
            sql::orNull(sql::text(statusCode(s.status))), sql::orNull(sql::text(s.startTime)),
            sql::orNull(sql::text(stopTime)), s.machine, sql::emptyAsNull(s.system),
            sql::emptyAsNull(s.errorMsg), sql::orNull(sql::text(s.propagatedFrom)));
        if (!r.empty()) return r[0][0].as<int>();
    }
    throw Error("cannot allocate a step number for build {} after {} attempts", s.build, maxStepNrAttempts);
}

} // namespace

int createBuildStep(pqxx::transaction_base& t, const NewStep& s)
{
    if (!s.status && s.busy == StepBusy::Idle)
        throw Error("a running step of build {} ({}) cannot be idle", s.build, s.drvPath);
    int stepNr = insertStepRow(t, s);
    for (auto& o : s.outputs)
        t.exec_params("INSERT INTO BuildStepOutputs (build, stepnr, name, path) VALUES ($1, $2, $3, $4)",
                      s.build, stepNr, o.name, o.path);
    if (!s.status) notifyStepStarted(t, s.build, stepNr);
    return stepNr;
}

int createSubstitutionStep(pqxx::transaction_base& t, BuildId build, const std::string& drvPath,
                           const StepOutput& output, int64_t startTime, int64_t stopTime)
{
    NewStep s;
    s.build = build;
    s.type = StepType::Substitution;
    s.drvPath = drvPath;
    s.status = BuildStatus::Success;
    s.startTime = startTime;
    s.stopTime = stopTime;
    s.outputs = {output};
    return createBuildStep(t, s);
}

void updateBuildStep(pqxx::transaction_base& t, BuildId build, int stepNr, StepBusy busy)
{
    if (busy == StepBusy::Idle)
        throw Error("step {} of build {}: use finishBuildStep to end it", stepNr, build);
    auto r = t.exec_params("UPDATE BuildSteps SET busy = $1 "
                           "WHERE build = $2 AND stepnr = $3 AND busy != 0 AND status IS NULL",
                           static_cast<int>(busy), build, stepNr);
    if (r.affected_rows() != 1) throw Error("step {} of build {} is not running", stepNr, build);
}

void finishBuildStep(pqxx::transaction_base& t, BuildId build, int stepNr, const StepFinish& f)
{
    auto r = t.exec_params(
        "UPDATE BuildSteps SET busy = 0, status = $3, errorMsg = $4, startTime = $5, stopTime = $6, "
        "  machine = COALESCE($7, machine), overhead = $8, timesBuilt = $9, isNonDeterministic = $10 "
        "WHERE build = $1 AND stepnr = $2",
        build, stepNr, static_cast<int>(f.status), sql::emptyAsNull(f.errorMsg), f.startTime, f.stopTime,
        sql::emptyAsNull(f.machine), sql::orNull(sql::text(nonZero(f.overheadMs))),
        sql::orNull(sql::text(nonZero(f.timesBuilt))),
        sql::orNull(sql::text(f.timesBuilt > 1 ? std::optional<bool>(f.isNonDeterministic) : std::nullopt)));
    if (r.affected_rows() != 1) throw Error("step {} of build {} does not exist", stepNr, build);
    for (auto& o : f.outputs)
        t.exec_params("UPDATE BuildStepOutputs SET path = $4 WHERE build = $1 AND stepnr = $2 AND name = $3",
                      build, stepNr, o.name, o.path);
    notifyStepFinished(t, build, stepNr, f.logPath);
}

int64_t clearBusySteps(pqxx::transaction_base& t, std::optional<int64_t> stopTime)
{
    auto r = t.exec_params("UPDATE BuildSteps SET busy = 0, status = $1, stopTime = $2 WHERE busy != 0",
                           static_cast<int>(BuildStatus::Aborted), sql::orNull(sql::text(stopTime)));
    return static_cast<int64_t>(r.affected_rows());
}

bool abortBusyStep(pqxx::transaction_base& t, BuildId build, int stepNr, std::optional<int64_t> stopTime)
{
    auto r = t.exec_params("UPDATE BuildSteps SET busy = 0, status = $1, stopTime = COALESCE($4, stopTime) "
                           "WHERE build = $2 AND stepnr = $3 AND busy != 0",
                           static_cast<int>(BuildStatus::Aborted), build, stepNr,
                           sql::orNull(sql::text(stopTime)));
    return r.affected_rows() == 1;
}

std::vector<StepRow> buildSteps(pqxx::transaction_base& t, BuildId build)
{
    auto res =
        t.exec_params("SELECT build, stepnr, type, drvPath, busy, status, errorMsg, startTime, stopTime, "
                      "  machine, system, propagatedFrom, overhead, timesBuilt, isNonDeterministic "
                      "FROM BuildSteps WHERE build = $1 ORDER BY stepnr",
                      build);
    std::vector<StepRow> out;
    for (auto row : res) {
        StepRow s;
        s.build = row[0].as<BuildId>();
        s.stepNr = row[1].as<int>();
        s.type = static_cast<StepType>(row[2].as<int>());
        s.drvPath = sql::get<std::string>(row[3]).value_or("");
        s.busy = row[4].as<int>();
        s.status = sql::get<int>(row[5]);
        s.errorMsg = sql::get<std::string>(row[6]);
        s.startTime = sql::get<int64_t>(row[7]);
        s.stopTime = sql::get<int64_t>(row[8]);
        s.machine = row[9].as<std::string>();
        s.system = sql::get<std::string>(row[10]);
        s.propagatedFrom = sql::get<BuildId>(row[11]);
        s.overhead = sql::get<int>(row[12]);
        s.timesBuilt = sql::get<int>(row[13]);
        s.isNonDeterministic = sql::get<bool>(row[14]);
        out.push_back(std::move(s));
    }
    return out;
}

std::vector<StepOutput> buildStepOutputs(pqxx::transaction_base& t, BuildId build, int stepNr)
{
    std::vector<StepOutput> out;
    for (auto row : t.exec_params("SELECT name, path FROM BuildStepOutputs WHERE build = $1 AND stepnr = $2 "
                                  "ORDER BY name",
                                  build, stepNr))
        out.push_back({row[0].as<std::string>(), row[1].as<std::string>()});
    return out;
}

} // namespace hydra::db

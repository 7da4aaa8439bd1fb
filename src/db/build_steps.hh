#pragma once
// BuildSteps rows: creating a step with a fresh step number (safe under concurrent creators),
// its outputs, busy stages, finishing it, and resetting steps a crashed runner left busy.

#include <cstdint>
#include <optional>
#include <pqxx/transaction_base>
#include <string>
#include <vector>

#include "db/build_status.hh"

namespace hydra::db {

using BuildId = int64_t;

/// BuildSteps.type.
enum class StepType : int { Build = 0, Substitution = 1 };

/// One output of a step's derivation; path is "" while not known yet (floating outputs).
struct StepOutput {
    std::string name;
    std::string path;
};

/// A BuildSteps row to insert. Without a status the step is running: busy = `busy`, status NULL,
/// and step_started is sent; with a status it is recorded as finished (busy 0).
struct NewStep {
    BuildId build = 0;
    StepType type = StepType::Build;
    std::string drvPath;
    std::string system;
    std::string machine; ///< "" when no machine was involved
    std::optional<BuildStatus> status;
    StepBusy busy = StepBusy::Preparing; ///< only for a running step; must not be Idle
    std::optional<int64_t> startTime;
    std::optional<int64_t> stopTime;
    std::string errorMsg;                  ///< "" stores NULL
    std::optional<BuildId> propagatedFrom; ///< the build whose step this result came from
    std::vector<StepOutput> outputs;       ///< BuildStepOutputs rows
};

/// Inserts the step with the next free step number of its build and its outputs; returns the
/// number. Concurrent creators for the same build each get a distinct number (the insert is
/// retried when another transaction took the number first). Needs READ COMMITTED.
int createBuildStep(pqxx::transaction_base& t, const NewStep& s);

/// A finished substitution step (type 1, status 0) that fetched `outputPath` of `drvPath`.
int createSubstitutionStep(pqxx::transaction_base& t, BuildId build, const std::string& drvPath,
                           const StepOutput& output, int64_t startTime, int64_t stopTime);

/// Moves a running step to another busy stage; throws hydra::Error if the step is not running.
void updateBuildStep(pqxx::transaction_base& t, BuildId build, int stepNr, StepBusy busy);

/// How a step ended, as recorded by finishBuildStep.
struct StepFinish {
    BuildStatus status = BuildStatus::Success;
    std::string errorMsg; ///< "" stores NULL
    int64_t startTime = 0;
    int64_t stopTime = 0;
    std::string machine;             ///< "" keeps the stored machine
    int64_t overheadMs = 0;          ///< 0 stores NULL
    int timesBuilt = 0;              ///< 0 stores NULL
    bool isNonDeterministic = false; ///< stored only when timesBuilt > 1
    std::string logPath;             ///< sent in step_finished (must hold no tab)
    std::vector<StepOutput> outputs; ///< on success: output paths now known
};

/// Records the end of a step (busy 0) and sends step_finished.
void finishBuildStep(pqxx::transaction_base& t, BuildId build, int stepNr, const StepFinish& f);

/// Start-up after a crash (or --unlock): every step still busy becomes aborted (status 3,
/// busy 0, stopTime as given, NULL as Hydra's start-up does). Returns how many were reset.
int64_t clearBusySteps(pqxx::transaction_base& t, std::optional<int64_t> stopTime);

/// One orphaned step (its builder died) becomes aborted if still busy; false if it was not.
bool abortBusyStep(pqxx::transaction_base& t, BuildId build, int stepNr, std::optional<int64_t> stopTime);

/// A stored BuildSteps row (for callers that inspect steps, and for tests).
struct StepRow {
    BuildId build = 0;
    int stepNr = 0;
    StepType type = StepType::Build;
    std::string drvPath;
    int busy = 0;
    std::optional<int> status;
    std::optional<std::string> errorMsg;
    std::optional<int64_t> startTime;
    std::optional<int64_t> stopTime;
    std::string machine;
    std::optional<std::string> system;
    std::optional<BuildId> propagatedFrom;
    std::optional<int> overhead;
    std::optional<int> timesBuilt;
    std::optional<bool> isNonDeterministic;
};

/// The steps of a build in step-number order.
std::vector<StepRow> buildSteps(pqxx::transaction_base& t, BuildId build);

/// The outputs of one step in name order.
std::vector<StepOutput> buildStepOutputs(pqxx::transaction_base& t, BuildId build, int stepNr);

} // namespace hydra::db

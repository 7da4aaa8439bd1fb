#pragma once
// machinesDocument: the queue runner's machines as Hydra's newest queue runner serves them on
// GET /status/machines, read from the status document so that both always agree. Pure: no I/O.

#include <nlohmann/json_fwd.hpp>

namespace hydra::qr {

/// {"machines": {name: {hostname, systems, supportedFeatures, mandatoryFeatures, maxJobs,
/// speedFactor, enabled, jobs [.drv paths], stats {currentJobs, nrStepsDone, …Ms, idleSince,
/// lastFailure, disabledUntil, consecutiveFailures}}}, "machinesCount": n} from `status` (the
/// document of `hydra-queue-runner --status`).
nlohmann::json machinesDocument(const nlohmann::json& status);

} // namespace hydra::qr

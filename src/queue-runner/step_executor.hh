#pragma once
// StepExecutor: what the dispatcher hands its steps to. The daemon's is the StepRunner (ssh,
// nix-store --serve, PostgreSQL); unit tests bring one that records and waits.

#include "queue-runner/machine_registry.hh"

#include <stop_token>
#include <string>

namespace hydra::qr {

/// Runs dispatched steps to their end; every member may be called from many threads at once.
class StepExecutor {
public:
    virtual ~StepExecutor() = default;
    /// Runs one step on the slot's machine until it ends or `stop` is requested; never throws.
    virtual void run(const std::string& drvPath, MachineSlot slot, const std::stop_token& stop) = 0;
    /// Fails a step no machine supports, and the builds that need it.
    virtual void failUnsupported(const std::string& drvPath) = 0;
    /// Called once per dispatch round: a chance to close what sat unused too long.
    virtual void closeIdle() {}
};

} // namespace hydra::qr

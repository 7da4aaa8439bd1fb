#include "queue-runner/step_build.hh"

namespace hydra::qr {

ServeStepBuild::ServeStepBuild(MachineSessionOptions opts, const Clock& clock)
    : opts_(std::move(opts)),
      sessions_(
          {.connection = opts_.connection, .maxIdle = opts_.sessionMaxIdle, .maxAge = opts_.sessionMaxAge},
          clock),
      localSessions_(sessions_, opts_.localSessionsKept),
      builder_(
          StepBuilderOptions{.local = opts_.connection,
                             .localSessions = opts_.sessionMaxIdle.count() > 0 ? &localSessions_ : nullptr})
{}

StepOutcome ServeStepBuild::build(const StepJob& job, const MachineSlot& slot,
                                  const ProgressCallback& progress, const std::stop_token& stop)
{
    const nix::Machine& machine = slot.machine();
    auto connect = [&](const nix::LogSink& sink) { return sessions_.acquire(machine, sink); };
    ConnectionReturn giveBack;
    if (opts_.sessionMaxIdle.count() > 0)
        giveBack = [&](nix::MachineConnection&& c) { sessions_.release(machine, std::move(c)); };
    return builder_.run(job, connect, slot.state().sendLock(), progress, stop, giveBack);
}

} // namespace hydra::qr

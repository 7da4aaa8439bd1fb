#pragma once
// RunCommand: runs the commands of hydra.conf's <runcommand> blocks for the builds they match,
// and with <dynamicruncommand> the executables that runCommandHook.* jobs build, each with
// HYDRA_JSON naming a file that describes the build (build_json.hh), its output kept under
// $HYDRA_DATA/runcommand-logs/<first 2 chars of uuid>/<uuid> and each run recorded in
// RunCommandLogs.

#include "notify/plugin.hh"
#include "util/hydra_config.hh"

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace hydra::notify {

/// Whether a `job` pattern "project:jobset:job" matches; each part is a glob ('*' alone: any
/// name); missing or empty trailing parts match anything, so "" matches every job (Hydra's
/// split on ':').
bool jobMatches(std::string_view pattern, std::string_view project, std::string_view jobset,
                std::string_view job);

/// The argv that starts `command` as Hydra does (Perl's system with one string): split at
/// blanks and executed directly, so a program that cannot be executed leaves an errno; or
/// /bin/sh -c when the command needs a shell (metacharacters, VAR=value, `exec`, `.`).
std::vector<std::string> commandArgv(std::string_view command);

/// Limits of RunCommand that hydra.conf does not set.
struct RunCommandOptions {
    std::chrono::seconds timeout{std::chrono::hours(1)}; ///< a command still running is killed
};

/// The RunCommand plugin. As in Hydra, a command that runs is recorded however it ends (exit
/// code, signal, or the errno of a program that could not be executed) and is not run again;
/// only a run that could not be attempted (database, log file) fails the event, which the
/// daemon retries. For build_finished, a command that already ended for the pending
/// notification (RunCommandLogs) is not run again, so a restart repeats only interrupted runs.
class RunCommand : public Plugin {
public:
    RunCommand(std::vector<RunCommandConfig> blocks, bool dynamic, RunCommandOptions opts = {});
    std::string_view name() const override { return "RunCommand"; }
    bool wants(const std::string& channel) const override;
    void handle(const Event& event, const PluginContext& ctx) override;

private:
    void handleBuild(int64_t build, const std::string& event, const PluginContext& ctx,
                     std::vector<std::string>& failures);

    std::vector<RunCommandConfig> blocks_;
    bool dynamic_;
    RunCommandOptions opts_;
};

/// RunCommand for the <runcommand> blocks of `config` and <dynamicruncommand>, or nullptr when
/// neither is configured.
std::unique_ptr<Plugin> makeRunCommand(const HydraConfig& config);

} // namespace hydra::notify

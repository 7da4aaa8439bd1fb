#pragma once
// RunCommand: runs the shell commands of hydra.conf's <runcommand> blocks for the builds they
// match, each with HYDRA_JSON naming a file that describes the build (build_json.hh), its
// output kept under $HYDRA_DATA/runcommand-logs/<first 2 chars of uuid>/<uuid> and each run
// recorded in RunCommandLogs.

#include "notify/plugin.hh"
#include "util/hydra_config.hh"

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace hydra::notify {

/// Whether a `job` pattern "project:jobset:job" matches; each part is a glob ('*' alone: any
/// name), missing parts match anything.
bool jobMatches(std::string_view pattern, std::string_view project, std::string_view jobset,
                std::string_view job);

/// Limits of RunCommand that hydra.conf does not set.
struct RunCommandOptions {
    std::chrono::seconds timeout{std::chrono::hours(1)}; ///< a command still running is killed
};

/// The RunCommand plugin. A command that does not exit with 0 fails the event (the daemon
/// retries it). For build_finished, a command that already succeeded for the pending
/// notification (RunCommandLogs) is not run again, so a restart repeats only interrupted runs.
class RunCommand : public Plugin {
public:
    explicit RunCommand(std::vector<RunCommandConfig> blocks, RunCommandOptions opts = {});
    std::string_view name() const override { return "RunCommand"; }
    bool wants(const std::string& channel) const override;
    void handle(const Event& event, const PluginContext& ctx) override;

private:
    void handleBuild(int64_t build, const std::string& event, const PluginContext& ctx,
                     std::vector<std::string>& failures);

    std::vector<RunCommandConfig> blocks_;
    RunCommandOptions opts_;
};

/// RunCommand for the <runcommand> blocks of `config`, or nullptr when there are none.
std::unique_ptr<Plugin> makeRunCommand(const HydraConfig& config);

} // namespace hydra::notify

#include "notify/plugins.hh"

#include "notify/compress_log.hh"
#include "notify/email.hh"
#include "notify/gitea_status.hh"
#include "notify/github_status.hh"
#include "notify/influxdb.hh"
#include "notify/run_command.hh"
#include "notify/slack.hh"

namespace hydra::notify {

PluginList makePlugins(const HydraConfig& config)
{
    PluginList out;
    // Each factory returns nothing when hydra.conf does not configure its plugin.
    for (auto make : {makeRunCommand, makeCompressLog, makeEmail, makeGithubStatus, makeGiteaStatus,
                      makeSlackNotification, makeInfluxDBNotification})
        if (auto p = make(config)) out.push_back(std::move(p));
    return out;
}

} // namespace hydra::notify

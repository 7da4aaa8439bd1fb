#include "notify/plugins.hh"

#include "notify/run_command.hh"

namespace hydra::notify {

PluginList makePlugins(const HydraConfig& config)
{
    PluginList out;
    auto add = [&](std::unique_ptr<Plugin> p) {
        if (p) out.push_back(std::move(p));
    };
    add(makeRunCommand(config));
    return out;
}

} // namespace hydra::notify

#pragma once
// The plugin registry: every plugin hydra.conf configures, in the order they are called.

#include "notify/plugin.hh"
#include "util/hydra_config.hh"

namespace hydra::notify {

/// The configured plugins (a plugin without configuration is left out).
PluginList makePlugins(const HydraConfig& config);

} // namespace hydra::notify

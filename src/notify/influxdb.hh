#pragma once
// InfluxDBNotification: one `hydra_build_status` point per finished build (status, result,
// duration, queueing time, sizes), written in InfluxDB's line protocol.

#include "db/build_description.hh"
#include "db/build_figures.hh"
#include "db/queue_notify.hh"
#include "notify/plugin.hh"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace hydra::notify {

/// The coarse class of a build status: "success", "canceled" or "failed".
std::string influxStatusClass(int buildStatus);
/// The detailed result of a build status: "success", "dependency-failed", "timed-out", ...
std::string influxStatusDetail(int buildStatus);

/// A line-protocol tag key or value with ',', '=' and ' ' escaped.
std::string influxEscapeTag(std::string_view s);

/// The `hydra_build_status` line of a finished build, tagged with `host` (left out when
/// empty); `mainBuild` is the build whose build_finished reported it.
std::string influxLine(const db::BuildDescription& build, const db::BuildFigures& figures,
                       db::BuildId mainBuild, const std::string& host);

/// Where points are written: {url}/write?db={db}&precision=s.
std::string influxWriteUrl(const InfluxDbConfig& conf);

/// The plugin: reacts to build_finished.
class InfluxDBNotification : public Plugin {
public:
    InfluxDBNotification(InfluxDbConfig conf, std::string host)
        : conf_(std::move(conf)), host_(std::move(host))
    {}
    std::string_view name() const override { return "InfluxDBNotification"; }
    bool wants(const std::string& channel) const override { return channel == db::channel::buildFinished; }
    void handle(const Event& event, const PluginContext& ctx) override;

private:
    InfluxDbConfig conf_;
    std::string host_;
};

/// The plugin for `config`'s <influxdb> block (tagging points with this machine's host
/// name), or nullptr when there is none.
std::unique_ptr<Plugin> makeInfluxDBNotification(const HydraConfig& config);

} // namespace hydra::notify

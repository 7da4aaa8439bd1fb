#pragma once
// CompressLog: the plugin that compresses a step's build log (bzip2 or zstd) once the step has
// finished, replacing `<log>` by `<log>.bz2` or `<log>.zst` as Hydra's web server expects.

#include "db/queue_notify.hh"
#include "notify/plugin.hh"
#include "util/hydra_config.hh"

#include <filesystem>
#include <memory>
#include <optional>

namespace hydra::notify {

/// The file name suffix of a compression method: ".bz2" or ".zst".
const char* compressedSuffix(LogCompression method);

/// Compresses `log` into `<log><suffix>`, streaming (bounded memory), through a temporary file
/// in the same directory that is fsync'd and renamed into place; removes `log` only after that.
/// Returns the compressed file, or nullopt when `log` does not exist (already compressed, or
/// never written). Throws hydra::Error naming the file on any other failure, leaving `log` intact.
std::optional<std::filesystem::path> compressLogFile(const std::filesystem::path& log, LogCompression method);

/// Hydra's CompressLog plugin: on step_finished, compresses the log the event names.
class CompressLog : public Plugin {
public:
    CompressLog(LogCompression method, bool silent) : method_(method), silent_(silent) {}
    std::string_view name() const override { return "CompressLog"; }
    bool wants(const std::string& channel) const override { return channel == db::channel::stepFinished; }
    void handle(const Event& event, const PluginContext& ctx) override;

private:
    LogCompression method_;
    bool silent_;
};

/// The plugin when compress_build_logs is on (Hydra's default), else nullptr.
std::unique_ptr<Plugin> makeCompressLog(const HydraConfig& config);

} // namespace hydra::notify

#pragma once
// Export streams (`nix-store --export`, serve ImportPaths/ExportPaths): NARs with their metadata.

#include "nix/nar.hh"
#include "nix/wire.hh"

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <vector>

namespace hydra::nix {

/// Marks the metadata that follows each NAR in an export stream ("NIXE").
constexpr uint64_t exportMagic = 0x4558494e;

/// The metadata of one store path in an export stream.
struct ExportEntry {
    std::string path;
    std::set<std::string> references;
    std::string deriver; ///< empty when unknown
    bool operator==(const ExportEntry&) const = default;
};

/// Reads a whole export stream: each NAR goes to `nar` (validated, streamed), then its
/// metadata to `onEntry`. Legacy signatures are accepted and dropped, as Nix does.
void readExport(Source& in, NarVisitor& nar, const std::function<void(const ExportEntry&)>& onEntry,
                const NarLimits& limits = {});

/// Forwards a whole export stream from `in` to `out` byte for byte, validating it on the way;
/// returns the metadata of the paths it carried.
std::vector<ExportEntry> copyExport(Source& in, Sink& out, const NarLimits& limits = {});

/// Writes one path of an export stream: `1`, the NAR (written by `writeNar`), the magic,
/// path, references, deriver, and `0` (no signature).
void writeExportEntry(Sink& out, const ExportEntry& entry, const std::function<void(Sink&)>& writeNar);
/// The same, with the NAR dumped from the filesystem object at `fsPath`.
void writeExportEntry(Sink& out, const ExportEntry& entry, const std::string& fsPath);
/// Ends an export stream.
void writeExportEnd(Sink& out);

} // namespace hydra::nix

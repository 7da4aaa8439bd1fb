#include "nix/export.hh"

#include "util/error.hh"

namespace hydra::nix {

void readExport(Source& in, NarVisitor& nar, const std::function<void(const ExportEntry&)>& onEntry,
                const NarLimits& limits)
{
    for (;;) {
        uint64_t more = readU64(in, "export stream marker");
        if (more == 0) return;
        if (more != 1)
            throw Error("{} is not an export stream: expected marker 0 or 1, got {}", in.describe(), more);
        parseNar(in, nar, limits);
        uint64_t magic = readU64(in, "export magic");
        if (magic != exportMagic)
            throw Error("{} is not an export stream: wrong magic {:#x} after a NAR", in.describe(), magic);
        ExportEntry e;
        e.path = readString(in, "exported path");
        e.references = readStringSet(in, fmt::format("references of {}", e.path));
        e.deriver = readString(in, fmt::format("deriver of {}", e.path));
        uint64_t hasSignature = readU64(in, fmt::format("signature marker of {}", e.path));
        if (hasSignature == 1)
            readString(in, fmt::format("signature of {}", e.path));
        else if (hasSignature != 0)
            throw Error("{}: bad signature marker {} after {}", in.describe(), hasSignature, e.path);
        onEntry(e);
    }
}

std::vector<ExportEntry> copyExport(Source& in, Sink& out, const NarLimits& limits)
{
    std::vector<ExportEntry> entries;
    TeeSource tee(in, out);
    NarVisitor ignore;
    readExport(
        tee, ignore, [&](const ExportEntry& e) { entries.push_back(e); }, limits);
    return entries;
}

void writeExportEntry(Sink& out, const ExportEntry& entry, const std::function<void(Sink&)>& writeNar)
{
    writeU64(out, 1);
    writeNar(out);
    writeU64(out, exportMagic);
    writeString(out, entry.path);
    writeStrings(out, entry.references);
    writeString(out, entry.deriver);
    writeU64(out, 0);
}

void writeExportEntry(Sink& out, const ExportEntry& entry, const std::string& fsPath)
{
    writeExportEntry(out, entry, [&](Sink& s) { dumpPath(fsPath, s); });
}

void writeExportEnd(Sink& out)
{
    writeU64(out, 0);
}

} // namespace hydra::nix

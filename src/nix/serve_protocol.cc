#include "nix/serve_protocol.hh"

#include "util/error.hh"

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>

namespace hydra::nix::serve {

namespace {

// The server decides which optional fields to read or send from the version we announced,
// the client from the version the server announced: both agree on the lower one.
unsigned commonMinor(unsigned serverMinor)
{
    return std::min(serverMinor, minorOf(clientVersion));
}

void writeCommand(Sink& out, Command c)
{
    writeU64(out, static_cast<uint64_t>(c));
}

} // namespace

std::string buildStatusName(BuildStatus s)
{
    static constexpr std::array<const char*, 15> names = {
        "Built",
        "Substituted",
        "AlreadyValid",
        "PermanentFailure",
        "InputRejected",
        "OutputRejected",
        "TransientFailure",
        "CachedFailure",
        "TimedOut",
        "MiscFailure",
        "DependencyFailed",
        "LogLimitExceeded",
        "NotDeterministic",
        "ResolvesToAlreadyValid",
        "NoSubstituters",
    };
    auto n = static_cast<uint64_t>(s);
    if (n < names.size()) return names[n];
    return fmt::format("unknown status {}", n);
}

bool isSuccess(BuildStatus s)
{
    return s == BuildStatus::Built || s == BuildStatus::Substituted || s == BuildStatus::AlreadyValid ||
           s == BuildStatus::ResolvesToAlreadyValid;
}

std::string Realisation::outputName() const
{
    auto bang = id.rfind('!');
    return bang == std::string::npos ? std::string() : id.substr(bang + 1);
}

void writeHello(Sink& out)
{
    writeU64(out, clientMagic);
    writeU64(out, clientVersion);
}

void writeQueryValidPaths(Sink& out, const std::set<std::string>& paths, bool lock, bool substitute)
{
    writeCommand(out, Command::QueryValidPaths);
    writeBool(out, lock);
    writeBool(out, substitute);
    writeStrings(out, paths);
}

void writeQueryPathInfos(Sink& out, const std::set<std::string>& paths)
{
    writeCommand(out, Command::QueryPathInfos);
    writeStrings(out, paths);
}

void writeDumpStorePath(Sink& out, const std::string& path)
{
    writeCommand(out, Command::DumpStorePath);
    writeString(out, path);
}

void writeImportPaths(Sink& out)
{
    writeCommand(out, Command::ImportPaths);
}

void writeExportPaths(Sink& out, const std::set<std::string>& paths)
{
    writeCommand(out, Command::ExportPaths);
    writeU64(out, 0); // the obsolete "sign" flag
    writeStrings(out, paths);
}

void writeBuildOptions(Sink& out, const BuildOptions& opts, unsigned serverMinor)
{
    unsigned minor = commonMinor(serverMinor);
    writeU64(out, opts.maxSilentTime);
    writeU64(out, opts.buildTimeout);
    if (minor >= 2) writeU64(out, opts.maxLogSize);
    if (minor >= 3) {
        writeU64(out, opts.nrRepeats);
        writeBool(out, opts.enforceDeterminism);
    }
    if (minor >= 7) writeBool(out, opts.keepFailed);
}

void writeBuildPaths(Sink& out, const std::vector<std::string>& paths, const BuildOptions& opts,
                     unsigned serverMinor)
{
    writeCommand(out, Command::BuildPaths);
    writeStrings(out, paths);
    writeBuildOptions(out, opts, serverMinor);
}

void writeQueryClosure(Sink& out, const std::set<std::string>& paths, bool includeOutputs)
{
    writeCommand(out, Command::QueryClosure);
    writeBool(out, includeOutputs);
    writeStrings(out, paths);
}

void writeBasicDerivation(Sink& out, const Derivation& drv)
{
    writeU64(out, drv.outputs.size());
    for (const auto& [name, output] : drv.outputs) {
        writeString(out, name);
        writeString(out, output.path);
        writeString(out, output.hashAlgo);
        writeString(out, output.hash);
    }
    writeStrings(out, drv.inputSrcs);
    writeString(out, drv.platform);
    writeString(out, drv.builder);
    writeStrings(out, drv.args);
    writeU64(out, drv.env.size());
    for (const auto& [key, value] : drv.env) {
        writeString(out, key);
        writeString(out, value);
    }
}

void writeBuildDerivation(Sink& out, const std::string& drvPath, const Derivation& drv,
                          const BuildOptions& opts, unsigned serverMinor)
{
    writeCommand(out, Command::BuildDerivation);
    writeString(out, drvPath);
    writeBasicDerivation(out, drv);
    writeBuildOptions(out, opts, serverMinor);
}

void writeAddToStoreNar(Sink& out, const AddToStoreInfo& info)
{
    writeCommand(out, Command::AddToStoreNar);
    writeString(out, info.path);
    writeString(out, info.deriver);
    writeString(out, info.narHash);
    writeStrings(out, info.references);
    writeU64(out, info.registrationTime);
    writeU64(out, info.narSize);
    writeBool(out, info.ultimate);
    writeStrings(out, info.sigs);
    writeString(out, info.ca);
}

uint64_t readHelloReply(Source& in)
{
    uint64_t magic = readU64(in, "the serve protocol greeting");
    if (magic != serverMagic)
        throw Error("{} does not speak the nix-store --serve protocol (greeting {:#x} instead of {:#x})",
                    in.describe(), magic, serverMagic);
    uint64_t version = readU64(in, "the serve protocol version");
    if (majorOf(version) != 0x200)
        throw Error("{} speaks nix-store --serve protocol {}.{}; only major version 2 is supported",
                    in.describe(), version >> 8, minorOf(version));
    return version;
}

std::set<std::string> readPathSet(Source& in, std::string_view what)
{
    return readStringSet(in, what);
}

std::vector<PathInfo> readPathInfos(Source& in, unsigned serverMinor)
{
    std::vector<PathInfo> infos;
    for (;;) {
        PathInfo info;
        info.path = readString(in, "path info");
        if (info.path.empty()) return infos; // the list ends with an empty path
        info.deriver = readString(in, fmt::format("deriver of {}", info.path));
        info.references = readStringSet(in, fmt::format("references of {}", info.path));
        info.downloadSize = readU64(in, fmt::format("download size of {}", info.path));
        info.narSize = readU64(in, fmt::format("NAR size of {}", info.path));
        if (commonMinor(serverMinor) >= 4) {
            info.narHash = readString(in, fmt::format("NAR hash of {}", info.path));
            info.ca = readString(in, fmt::format("content address of {}", info.path));
            info.sigs = readStringSet(in, fmt::format("signatures of {}", info.path));
        }
        infos.push_back(std::move(info));
    }
}

BuildPathsResult readBuildPathsResult(Source& in)
{
    BuildPathsResult r;
    r.status = readU64(in, "build status");
    if (r.status != 0) r.errorMsg = readString(in, "build error message");
    return r;
}

namespace {

std::string jsonString(const nlohmann::json& j, std::string_view field, std::string_view id,
                       std::string_view source)
{
    if (!j.is_string()) throw Error("realisation {} from {}: field '{}' is not a string", id, source, field);
    return j.get<std::string>();
}

} // namespace

Realisation parseRealisation(std::string_view json, std::string_view id, std::string_view source)
{
    auto j = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object())
        throw Error("realisation {} from {} is not a JSON object", id, source);
    Realisation r;
    r.id = j.contains("id") ? jsonString(j["id"], "id", id, source) : std::string(id);
    if (!j.contains("outPath")) throw Error("realisation {} from {} has no outPath", id, source);
    r.outPath = jsonString(j["outPath"], "outPath", id, source);
    if (j.contains("signatures")) {
        const auto& sigs = j["signatures"];
        if (!sigs.is_array()) throw Error("realisation {} from {}: signatures is not a list", id, source);
        for (const auto& s : sigs) r.signatures.insert(jsonString(s, "signatures", id, source));
    }
    if (j.contains("dependentRealisations")) {
        const auto& deps = j["dependentRealisations"];
        if (!deps.is_object())
            throw Error("realisation {} from {}: dependentRealisations is not an object", id, source);
        for (const auto& [k, v] : deps.items())
            r.dependentRealisations[k] = jsonString(v, "dependentRealisations", id, source);
    }
    return r;
}

BuildResult readBuildResult(Source& in, unsigned serverMinor)
{
    BuildResult r;
    r.status = static_cast<BuildStatus>(readU64(in, "build status"));
    r.errorMsg = readString(in, "build error message");
    if (commonMinor(serverMinor) >= 3) {
        r.timesBuilt = readU64(in, "times built");
        r.isNonDeterministic = readBool(in, "non-determinism flag");
        r.startTime = readU64(in, "build start time");
        r.stopTime = readU64(in, "build stop time");
    }
    // Nix 2.7-2.10 send built outputs whatever version the client announced.
    if (serverMinor >= 6) {
        uint64_t n = readU64(in, "number of built outputs");
        for (uint64_t i = 0; i < n; ++i) {
            auto id = readString(in, "built output id");
            auto json = readString(in, fmt::format("realisation of {}", id));
            r.builtOutputs[id] = parseRealisation(json, id, in.describe());
        }
    }
    return r;
}

void readSuccessMarker(Source& in, std::string_view command)
{
    uint64_t n = readU64(in, fmt::format("the reply to {}", command));
    if (n != 1) throw Error("{} answered {} to {} instead of 1 (success)", in.describe(), n, command);
}

Derivation readBasicDerivation(Source& in)
{
    Derivation drv;
    uint64_t n = readU64(in, "number of derivation outputs");
    for (uint64_t i = 0; i < n; ++i) {
        auto name = readString(in, "output name");
        DerivationOutput o;
        o.path = readString(in, fmt::format("path of output {}", name));
        o.hashAlgo = readString(in, fmt::format("hash algorithm of output {}", name));
        o.hash = readString(in, fmt::format("hash of output {}", name));
        drv.outputs[name] = std::move(o);
    }
    drv.inputSrcs = readStringSet(in, "input sources");
    drv.platform = readString(in, "platform");
    drv.builder = readString(in, "builder");
    drv.args = readStrings(in, "builder arguments");
    n = readU64(in, "number of environment variables");
    for (uint64_t i = 0; i < n; ++i) {
        auto key = readString(in, "environment variable name");
        drv.env[key] = readString(in, fmt::format("value of environment variable {}", key));
    }
    return drv;
}

} // namespace hydra::nix::serve

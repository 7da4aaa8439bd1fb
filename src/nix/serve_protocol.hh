#pragma once
// The client side of `nix-store --serve` (protocol 2.x as Nix 2.8 speaks it): message encoding
// and decoding, and ServeClient, which runs commands over any pair of byte streams.

#include "nix/derivation.hh"
#include "nix/export.hh"
#include "nix/nar.hh"
#include "nix/wire.hh"

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace hydra::nix::serve {

constexpr uint64_t clientMagic = 0x390c9deb;
constexpr uint64_t serverMagic = 0x5452eecb;
/// The version this client announces: 2.7, the newest that Nix 2.8 speaks.
constexpr uint64_t clientVersion = 0x207;

constexpr unsigned majorOf(uint64_t version)
{
    return static_cast<unsigned>(version & 0xff00);
}
constexpr unsigned minorOf(uint64_t version)
{
    return static_cast<unsigned>(version & 0x00ff);
}

/// The command codes of the serve protocol.
enum class Command : uint64_t {
    QueryValidPaths = 1,
    QueryPathInfos = 2,
    DumpStorePath = 3,
    ImportPaths = 4,
    ExportPaths = 5,
    BuildPaths = 6,
    QueryClosure = 7,
    BuildDerivation = 8,
    AddToStoreNar = 9,
};

/// Limits a builder applies to a build (sent after BuildPaths and BuildDerivation).
struct BuildOptions {
    uint64_t maxSilentTime = 0; ///< seconds without log output; 0 = no limit
    uint64_t buildTimeout = 0;  ///< seconds; 0 = no limit
    uint64_t maxLogSize = 0;    ///< bytes; 0 = no limit (minor >= 2)
    uint64_t nrRepeats = 0;     ///< extra rounds to check determinism (minor >= 3)
    bool enforceDeterminism = false;
    bool keepFailed = false; ///< keep the build directory of a failed build (minor >= 7)
};

/// Outcome of a build as the builder reports it (Nix's BuildResult::Status).
enum class BuildStatus : uint64_t {
    Built = 0,
    Substituted = 1,
    AlreadyValid = 2,
    PermanentFailure = 3,
    InputRejected = 4,
    OutputRejected = 5,
    TransientFailure = 6,
    CachedFailure = 7,
    TimedOut = 8,
    MiscFailure = 9,
    DependencyFailed = 10,
    LogLimitExceeded = 11,
    NotDeterministic = 12,
    ResolvesToAlreadyValid = 13,
    NoSubstituters = 14,
};

/// "Built", "PermanentFailure", ...; "unknown status N" outside the known range.
std::string buildStatusName(BuildStatus s);
/// True for the statuses after which the outputs are valid.
bool isSuccess(BuildStatus s);

/// A built output as Nix 2.x reports it: the DrvOutput id and the parsed Realisation JSON.
struct Realisation {
    std::string id;      ///< "<hash type>:<hash>!<output name>"
    std::string outPath; ///< as sent: Nix 2.8 sends the base name, without the store directory
    std::set<std::string> signatures;
    std::map<std::string, std::string> dependentRealisations;
    /// The output name: the part of the id after '!'.
    std::string outputName() const;
    bool operator==(const Realisation&) const = default;
};

/// Reply to BuildDerivation.
struct BuildResult {
    BuildStatus status = BuildStatus::MiscFailure;
    std::string errorMsg;
    uint64_t timesBuilt = 0; ///< this and the next three: minor >= 3
    bool isNonDeterministic = false;
    uint64_t startTime = 0; ///< Unix seconds
    uint64_t stopTime = 0;
    std::map<std::string, Realisation> builtOutputs; ///< by id; server minor >= 6
    bool operator==(const BuildResult&) const = default;
};

/// Reply to BuildPaths: 0 on success, else Nix's exit status and the error message.
struct BuildPathsResult {
    uint64_t status = 0;
    std::string errorMsg;
    bool operator==(const BuildPathsResult&) const = default;
};

/// One entry of a QueryPathInfos reply (narHash, ca and sigs only with minor >= 4).
struct PathInfo {
    std::string path;
    std::string deriver; ///< empty when unknown
    std::set<std::string> references;
    uint64_t downloadSize = 0;
    uint64_t narSize = 0;
    std::string narHash; ///< "sha256:<base32>"
    std::string ca;      ///< content address, empty for input-addressed paths
    std::set<std::string> sigs;
    bool operator==(const PathInfo&) const = default;
};

/// What AddToStoreNar sends before the NAR.
struct AddToStoreInfo {
    std::string path;
    std::string deriver;
    std::string narHash; ///< any form Nix parses as SHA-256 ("sha256:<base32>", base-16, ...)
    std::set<std::string> references;
    uint64_t registrationTime = 0;
    uint64_t narSize = 0; ///< must be the exact size of the NAR that follows, and non-zero
    bool ultimate = false;
    std::set<std::string> sigs;
    std::string ca;
};

// Encoders write one request (without flushing). `serverMinor` is the minor version the server
// announced; fields are sent as far as both sides understand them.
void writeHello(Sink& out);
void writeQueryValidPaths(Sink& out, const std::set<std::string>& paths, bool lock, bool substitute);
void writeQueryPathInfos(Sink& out, const std::set<std::string>& paths);
void writeDumpStorePath(Sink& out, const std::string& path);
/// The command only: the export stream and its end marker follow.
void writeImportPaths(Sink& out);
void writeExportPaths(Sink& out, const std::set<std::string>& paths);
/// `paths` are "<path>" or "<drv path>!<output>,<output>".
void writeBuildPaths(Sink& out, const std::vector<std::string>& paths, const BuildOptions& opts,
                     unsigned serverMinor);
void writeQueryClosure(Sink& out, const std::set<std::string>& paths, bool includeOutputs);
void writeBuildDerivation(Sink& out, const std::string& drvPath, const Derivation& drv,
                          const BuildOptions& opts, unsigned serverMinor);
/// The command and metadata only: exactly info.narSize bytes of NAR follow.
void writeAddToStoreNar(Sink& out, const AddToStoreInfo& info);
void writeBuildOptions(Sink& out, const BuildOptions& opts, unsigned serverMinor);
/// BasicDerivation as the serve protocol carries it: outputs (name, path, hashAlgo, hash),
/// inputSrcs, platform, builder, args, env. inputDrvs do not travel.
void writeBasicDerivation(Sink& out, const Derivation& drv);

// Decoders read one reply; errors name the source and the field.
/// Checks the server's magic and major version; returns its version.
uint64_t readHelloReply(Source& in);
/// Replies to QueryValidPaths and QueryClosure.
std::set<std::string> readPathSet(Source& in, std::string_view what);
std::vector<PathInfo> readPathInfos(Source& in, unsigned serverMinor);
BuildPathsResult readBuildPathsResult(Source& in);
BuildResult readBuildResult(Source& in, unsigned serverMinor);
/// Replies to ImportPaths and AddToStoreNar: the server sends 1 once the paths are stored.
void readSuccessMarker(Source& in, std::string_view command);
/// Parses one Realisation from its JSON text; throws Error naming the source on bad JSON.
Realisation parseRealisation(std::string_view json, std::string_view id, std::string_view source);
/// The inverse of writeBasicDerivation (for tests and a test server); inputDrvs stay empty.
Derivation readBasicDerivation(Source& in);

/// One `nix-store --serve` session over a pair of byte streams (a child's pipes, an ssh
/// channel). Not thread-safe: one command at a time. After a failure every later command
/// throws: the caller reconnects.
class ServeClient {
public:
    ServeClient(Source& from, Sink& to) : from_(from), to_(to) {}

    /// Sends our greeting and reads the server's; throws on a foreign or incompatible peer.
    void handshake();
    uint64_t serverVersion() const { return serverVersion_; }
    unsigned serverMinor() const { return minorOf(serverVersion_); }

    std::set<std::string> queryValidPaths(const std::set<std::string>& paths, bool lock = false,
                                          bool substitute = false);
    std::vector<PathInfo> queryPathInfos(const std::set<std::string>& paths);
    std::set<std::string> queryClosure(const std::set<std::string>& paths, bool includeOutputs);
    /// Streams the NAR of `path` into `nar`, validated, byte for byte.
    void dumpStorePath(const std::string& path, Sink& nar);
    /// Sends an export stream (written by `writeExport`, end marker included) to be imported.
    void importPaths(const std::function<void(Sink&)>& writeExport);
    /// Receives the export stream of `paths` into `out`; returns the metadata it carried.
    std::vector<ExportEntry> exportPaths(const std::set<std::string>& paths, Sink& out);
    BuildPathsResult buildPaths(const std::vector<std::string>& paths, const BuildOptions& opts);
    /// Builds on the server; the build log arrives on the server's stderr, not here. Set a
    /// read timeout on the Source long enough for the whole build.
    BuildResult buildDerivation(const std::string& drvPath, const Derivation& drv, const BuildOptions& opts);
    /// Adds one path; `writeNar` must write exactly info.narSize bytes.
    void addToStoreNar(const AddToStoreInfo& info, const std::function<void(Sink&)>& writeNar);

private:
    /// Runs one command; after any error the byte streams may be out of step, so every later
    /// command is refused.
    template <typename F> auto command(F&& f);
    Source& from_;
    Sink& to_;
    uint64_t serverVersion_ = 0;
    bool broken_ = false;
};

} // namespace hydra::nix::serve

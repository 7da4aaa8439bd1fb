#pragma once
// What a build's outputs say about themselves in nix-support/: build products
// (hydra-build-products), the release name (hydra-release-name), metrics (hydra-metrics) and the
// failed marker (failed), read with Hydra's rules from outputs in the local store.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hydra::qr {

/// One BuildProducts row: a file or directory inside an output that the web interface offers.
struct BuildProduct {
    std::string type;    ///< e.g. "file", "doc", "nix-build"
    std::string subtype; ///< e.g. "binary-dist", "readme"; "" allowed for nix-build
    std::string path;    ///< canonical absolute path inside an output
    std::string name;    ///< base name ("" for an output itself or an unsafe name)
    std::string defaultPath;
    std::optional<uint64_t> fileSize;  ///< regular files only
    std::optional<std::string> sha256; ///< base-16, regular files only
    bool operator==(const BuildProduct&) const = default;
};

/// One BuildMetrics row.
struct BuildMetric {
    std::string name;
    double value = 0;
    std::string unit; ///< "" when absent or unsafe
    bool operator==(const BuildMetric&) const = default;
};

/// Everything the outputs' nix-support/ directories say.
struct NixSupport {
    std::vector<BuildProduct> products;
    std::map<std::string, BuildMetric> metrics; ///< by name; a later line replaces an earlier one
    std::string releaseName;                    ///< "" when none (or not a safe name)
    bool failed = false;                        ///< some output has nix-support/failed
};

/// One line of hydra-build-products split as Hydra accepts it: `type subtype path
/// [defaultPath]`, the path in double quotes when it holds spaces. nullopt (and `why`) when the
/// line does not have that shape. The path is not checked here.
struct ProductLine {
    std::string type, subtype, path, defaultPath;
};
std::optional<ProductLine> parseProductLine(std::string_view line, std::string& why);

/// One line of hydra-metrics: `name value [unit]`; nullopt (and `why`) for a bad line.
std::optional<BuildMetric> parseMetricLine(std::string_view line, std::string& why);

/// Reads nix-support/ of `outputs` (output name -> store path, in the local store). Bad lines
/// are skipped with a warning naming file:line; a product must lie inside one of the outputs
/// (symlinks are not followed out of it). Without any hydra-build-products file, every output
/// that is a directory becomes a "nix-build" product, as in Hydra.
NixSupport readNixSupport(const std::map<std::string, std::string>& outputs);

} // namespace hydra::qr

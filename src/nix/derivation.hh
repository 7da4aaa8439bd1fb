#pragma once
// Derivation: the model of a .drv file (Nix's ATerm format), its parser and its printer.

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace hydra::nix {

/// One output of a derivation as written in the .drv (path may be empty for CA/deferred).
struct DerivationOutput {
    std::string path;
    std::string hashAlgo; ///< "" for input-addressed, e.g. "r:sha256" for fixed/content-addressed
    std::string hash;     ///< base-16 hash of a fixed output, else ""

    bool operator==(const DerivationOutput&) const = default;
};

/// A parsed .drv file: the model the queue runner schedules and sends to builders.
struct Derivation {
    std::map<std::string, DerivationOutput> outputs;        // output name -> output
    std::map<std::string, std::set<std::string>> inputDrvs; // .drv path -> output names
    std::set<std::string> inputSrcs;
    std::string platform;
    std::string builder;
    std::vector<std::string> args;
    std::map<std::string, std::string> env;

    /// The space-separated features in env var requiredSystemFeatures (empty if unset).
    std::set<std::string> requiredSystemFeatures() const;
    /// True if env var preferLocalBuild is "1" (how Nix encodes `preferLocalBuild = true`).
    bool preferLocalBuild() const;

    bool operator==(const Derivation&) const = default;
};

/// Parses the text of a .drv file. Throws hydra::Error (and nothing else) on malformed input,
/// saying what was expected, at which byte offset, in `what` (the file's path, for errors).
/// Linear in the input size; rejects duplicate keys and escapes other than \" \\ \n \r \t.
Derivation parseDerivation(std::string_view text, std::string_view what /* path, for errors */);

/// Reads and parses a .drv file; the error names the file when it is missing or malformed.
Derivation readDerivation(const std::string& path);

/// Prints the ATerm text, byte-identical to what Nix writes for the same derivation.
std::string printDerivation(const Derivation& d);

} // namespace hydra::nix

#pragma once
// JobSource: what an evaluation evaluates — a Nix file called with the jobset's inputs as
// arguments, or a flake's hydraJobs (falling back to checks).

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace hydra::evaluator {

/// One argument of the jobset expression: `--argstr name value` or `--arg name <nix expr>`.
struct NixArg {
    enum class Kind { String, Expr };
    std::string name;
    Kind kind = Kind::String;
    std::string value;
};

/// The expression an evaluation works on.
struct JobSource {
    /// Legacy jobsets: the file (inside the nixExprInput's store path) and its arguments.
    std::filesystem::path nixFile;
    std::vector<NixArg> args;
    /// `-I name=path` for every input that is a store path, so `<name>` means that input and
    /// not whatever the evaluator's own NIX_PATH holds.
    std::vector<std::pair<std::string, std::string>> searchPath;
    /// Flake jobsets: the locked flake reference; when set, nixFile and args are unused.
    std::string flakeRef;

    bool isFlake() const { return !flakeRef.empty(); }
};

} // namespace hydra::evaluator

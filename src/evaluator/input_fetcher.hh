#pragma once
// InputFetcher: turns a jobset's inputs into what an evaluation starts from — the
// JobsetEvalInputs row of each input and the argument of the Nix expression it becomes.

#include "db/connection_pool.hh"
#include "db/eval_records.hh"
#include "evaluator/job_source.hh"
#include "util/error.hh"

#include <chrono>
#include <filesystem>
#include <optional>
#include <stop_token>
#include <string>

namespace hydra::evaluator {

/// Where fetched inputs are cached and how long one fetch may take.
struct FetchOptions {
    std::filesystem::path dataDir; ///< HYDRA_DATA; git caches under dataDir/scm/git
    std::chrono::seconds timeout{600};
};

/// An input made ready for evaluation: its JobsetEvalInputs row and the argument it becomes.
struct FetchedInput {
    db::EvalInputRecord record;
    NixArg arg;
};

/// A jobset input could not be fetched; the message names the input, its type and value.
class InputError : public Error {
public:
    using Error::Error;
};

/// Fetches jobset inputs of every supported type (string, boolean, nix, path, git, build).
/// Safe to use from several threads at once.
class InputFetcher {
public:
    InputFetcher(FetchOptions opts, db::ConnectionPool& pool);

    /// Fetches the input (alternative 0) of `jobset`; throws InputError. Nothing for a `build`
    /// input whose job has no successful build with its output in the store yet: as in Hydra,
    /// the jobset is then evaluated without that argument, so that it can build that job first.
    std::optional<FetchedInput> fetch(const db::JobsetDefinition& jobset, const db::JobsetInput& input,
                                      const std::stop_token& stop);

    /// The locked URL of `url` per `nix flake metadata --json` (throws InputError naming the flake).
    std::string lockFlake(const std::string& url, const std::stop_token& stop);

private:
    FetchedInput fetchPath(const db::JobsetInput& input, const std::string& value,
                           const std::stop_token& stop);
    FetchedInput fetchGitInput(const db::JobsetInput& input, const db::InputAlt& alt,
                               const std::stop_token& stop);
    std::optional<FetchedInput> fetchBuild(const db::JobsetDefinition& jobset, const db::JobsetInput& input,
                                           const std::string& value, const std::stop_token& stop);

    FetchOptions opts_;
    db::ConnectionPool& pool_;
};

} // namespace hydra::evaluator

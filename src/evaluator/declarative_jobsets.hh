#pragma once
// DeclarativeJobsets: the check of a declarative project's `.jobsets` jobset — fetch the input
// that holds the specification file, read it, and create, update and disable the project's
// jobsets to match it, as Hydra does. A specification that instead configures `.jobsets`
// itself (Hydra's generated form) makes `.jobsets` an ordinary jobset whose job `jobsets`
// builds the real specification, applied at the check after that build succeeded.

#include "db/connection_pool.hh"
#include "evaluator/input_fetcher.hh"
#include "util/clock.hh"

#include <cstddef>
#include <nlohmann/json.hpp>
#include <stop_token>
#include <string>
#include <vector>

namespace hydra::evaluator {

/// What applying a specification did.
struct DeclaredJobsets {
    std::vector<std::string> created, updated, disabled;
    std::vector<std::string> errors; ///< one per jobset that could not be defined, naming it
};

/// What one check of `.jobsets` did.
struct DeclarationResult {
    DeclaredJobsets declared;
    /// The specification configures `.jobsets` itself: it was reconfigured from it (with the
    /// inputs declInput and projectName, as in Hydra) and must now be evaluated.
    bool generated = false;
};

/// Applies declarative projects' specification files to their jobsets.
class DeclarativeJobsets {
public:
    DeclarativeJobsets(db::ConnectionPool& pool, InputFetcher& fetcher, const Clock& clock)
        : pool_(pool), fetcher_(fetcher), clock_(clock)
    {}

    /// One check of `js` (a `.jobsets` jobset). Throws InputError when the input or the file
    /// cannot be read, Error when it is not a JSON object. A jobset whose own specification is
    /// bad is reported in `errors`; the others are still applied.
    DeclarationResult check(const db::JobsetDefinition& js, const std::stop_token& stop);

    /// Applies `spec` (an object of jobset specifications) to `project`; one transaction.
    DeclaredJobsets applySpec(const std::string& project, const nlohmann::json& spec);

private:
    void configureGenerator(const db::JobsetDefinition& js, const std::string& declType,
                            const std::string& declValue, const nlohmann::json& spec);

    db::ConnectionPool& pool_;
    InputFetcher& fetcher_;
    const Clock& clock_;
};

/// The specification file's text parsed: a JSON object, at most `maxBytes`; InputError (file)
/// or Error (content) naming the file otherwise.
nlohmann::json readSpecFile(const std::string& path, size_t maxBytes = 16 << 20);

} // namespace hydra::evaluator

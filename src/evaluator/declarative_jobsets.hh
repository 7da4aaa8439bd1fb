#pragma once
// DeclarativeJobsets: the evaluation of a declarative project's `.jobsets` jobset — fetch the
// input that holds the specification file, read it, and create, update and disable the
// project's jobsets to match it, as Hydra does.

#include "db/connection_pool.hh"
#include "evaluator/input_fetcher.hh"
#include "util/clock.hh"

#include <cstddef>
#include <stop_token>
#include <string>
#include <vector>

namespace hydra::evaluator {

/// What applying a specification did.
struct DeclaredJobsets {
    std::vector<std::string> created, updated, disabled;
    std::vector<std::string> errors; ///< one per jobset that could not be defined, naming it
};

/// Applies declarative projects' specification files to their jobsets.
class DeclarativeJobsets {
public:
    DeclarativeJobsets(db::ConnectionPool& pool, InputFetcher& fetcher, const Clock& clock)
        : pool_(pool), fetcher_(fetcher), clock_(clock)
    {}

    /// Fetches the specification of `js`'s project (declfile in the input decltype/declvalue)
    /// and applies it in one transaction. Throws InputError when the input or the file cannot
    /// be read, Error when it is not a JSON object of jobset specifications. A jobset whose
    /// own specification is bad is reported in `errors`; the others are still applied.
    DeclaredJobsets apply(const db::JobsetDefinition& js, const std::stop_token& stop);

    /// Applies `spec` (the parsed specification file) to `project`; one transaction.
    DeclaredJobsets applySpec(const std::string& project, const std::string& specText);

private:
    db::ConnectionPool& pool_;
    InputFetcher& fetcher_;
    const Clock& clock_;
};

/// The specification file's text: at most `maxBytes`; Error naming the file otherwise.
std::string readSpecFile(const std::string& path, size_t maxBytes = 16 << 20);

} // namespace hydra::evaluator

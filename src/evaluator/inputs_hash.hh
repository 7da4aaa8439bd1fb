#pragma once
// The hash of what an evaluation depends on: an evaluation whose hash equals the previous
// one's would find nothing new, so the evaluator records it as cached instead.

#include "db/eval_records.hh"
#include "evaluator/input_fetcher.hh"

#include <string>
#include <vector>

namespace hydra::evaluator {

/// SHA-256 (base-16) over every input's name, type, value, URI, revision, build, store path
/// and hash (independent of the inputs' order), and the jobset's nixExprInput/nixExprPath
/// (legacy) or `lockedFlake` (flake jobsets). Equal hash = nothing changed.
std::string inputsHash(const std::vector<FetchedInput>& inputs, const db::JobsetDefinition& jobset,
                       const std::string& lockedFlake);

} // namespace hydra::evaluator

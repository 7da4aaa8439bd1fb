#pragma once
// parseJobJson: one job as a worker printed it (JSON) turned into the record written to Builds.

#include "db/eval_records.hh"

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>

namespace hydra::evaluator {

/// Builds the job named `job` from its JSON: drvPath, name, system and outputs are required;
/// meta fields missing or null take Hydra's defaults. Throws Error naming the job when the
/// JSON is malformed.
db::EvalJob parseJobJson(const std::string& job, const nlohmann::json& j);

/// The same, from JSON text.
db::EvalJob parseJobJson(const std::string& job, std::string_view text);

} // namespace hydra::evaluator

#pragma once
// Conversions from what a build produced (nix-support, outputs) to the rows the db layer writes.

#include "db/build_results.hh"
#include "db/build_steps.hh"
#include "queue-runner/nix_support.hh"

#include <map>
#include <string>
#include <vector>

namespace hydra::qr {

/// BuildProducts rows for the products nix-support listed.
std::vector<db::BuildProduct> productRows(const std::vector<BuildProduct>& products);
/// BuildMetrics rows for the metrics nix-support listed.
std::vector<db::BuildMetric> metricRows(const std::map<std::string, BuildMetric>& metrics);
/// BuildStepOutputs rows for output name -> path.
std::vector<db::StepOutput> stepOutputRows(const std::map<std::string, std::string>& outputs);

} // namespace hydra::qr

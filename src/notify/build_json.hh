#pragma once
// The HYDRA_JSON document: a build described with Hydra's field names, so the scripts people
// wrote for Hydra's RunCommand read ours unchanged.

#include "db/build_description.hh"

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace hydra::notify {

/// Hydra's name of the event a channel carries: "build_finished" -> "buildFinished",
/// "cached_build_queued" -> "cachedBuildQueued" (RunCommand's `events` and the `event` field).
std::string eventName(std::string_view channel);

/// The document for `build` and `event` (e.g. "buildFinished"): event, build, finished,
/// timestamp, project, jobset, job, drvPath, startTime, stopTime, buildStatus, nixName,
/// system, homepage, description, license, outputs, products, metrics; NULL columns are null.
nlohmann::ordered_json buildJson(const db::BuildDescription& build, std::string_view event);

} // namespace hydra::notify

#pragma once
// The JSON of Hydra's objects, exactly in the shapes Hydra writes them (hydra-web.md): one
// serializer per object, used by every route that returns it.

#include "db/web_records.hh"

#include <nlohmann/json.hpp>

namespace hydra::server {

nlohmann::json toJson(const db::web::Project& p);
nlohmann::json toJson(const db::web::Jobset& j);
nlohmann::json toJson(const db::web::Build& b);
nlohmann::json toJson(const db::web::Eval& e);
nlohmann::json toJson(const db::web::User& u);
/// One step, as /build/ID/step/N answers.
nlohmann::json toJson(const db::web::BuildStep& s);

} // namespace hydra::server

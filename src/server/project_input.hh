#pragma once
// The bodies of the project and jobset actions: Hydra's JSON, or the fields of this server's
// HTML forms, turned into checked configurations (HttpError 400 naming the field otherwise).

#include "db/jobset_config.hh"
#include "server/http.hh"

#include <map>
#include <nlohmann/json.hpp>
#include <string>

namespace hydra::server {

/// The fields of a project or jobset form as Hydra's JSON body: check boxes become flags,
/// `declfile`/`decltype`/`declvalue` the `declarative` object, and the numbered rows
/// `input-N-name`, `-type`, `-value`, `-emailresponsible` the `inputs` (rows without a name
/// are blank and skipped). Other fields are copied; the anti-forgery field is dropped.
nlohmann::json formToJson(const std::multimap<std::string, std::string>& fields);

/// The request's body as JSON: parsed when its Content-Type is JSON (or it starts with '{'),
/// else `form` (the parsed form fields) through formToJson. HttpError 400 when malformed.
nlohmann::json actionBody(const Request& req, const std::multimap<std::string, std::string>& form);

/// A checked project configuration from `body`; HttpError 400 naming the field.
db::ProjectConfig projectFromBody(const nlohmann::json& body, const std::string& urlName);
/// A checked jobset configuration from `body`; HttpError 400 naming the field.
db::JobsetConfig jobsetFromBody(const nlohmann::json& body, const std::string& urlName);

} // namespace hydra::server

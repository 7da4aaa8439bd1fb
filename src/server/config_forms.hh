#pragma once
// The HTML forms that create and edit projects and jobsets; their fields are those that
// project_input.hh reads back.

#include "db/jobset_config.hh"
#include "server/html.hh"
#include "server/http.hh"

#include <string_view>

namespace hydra::server {

/// A form posting a project's settings to `action`. `withOwner`: the owner field (admins only).
Html projectForm(const Request& req, std::string_view action, const db::ProjectConfig& c, bool withOwner,
                 std::string_view submitLabel);

/// A form posting a jobset's settings and inputs to `action`, with blank rows for new inputs.
Html jobsetForm(const Request& req, std::string_view action, const db::JobsetConfig& c,
                std::string_view submitLabel);

/// A form with one button that posts to `action` after the browser asks to confirm `question`.
Html deleteForm(const Request& req, std::string_view action, std::string_view label);

} // namespace hydra::server

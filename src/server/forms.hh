#pragma once
// HTML forms that change state: the anti-forgery field they carry, their parsed bodies, and
// the "302 back" answer of Hydra's actions.

#include "server/html.hh"
#include "server/http.hh"

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace hydra::server {

class Site;

/// The hidden field with the session's anti-forgery token (name "csrf") that every form
/// posting to an Access::Action route must contain.
void csrfField(Html& h, const Request& req);

/// A `<form method="post">` with one button posting to `action` (a URL from Site::url), with
/// the anti-forgery field: the buttons of Hydra's actions (restart, cancel, bump, ...).
void actionButton(Html& h, const Request& req, std::string_view action, std::string_view label);

/// The fields of an application/x-www-form-urlencoded body ('+' is a space); empty for any
/// other content type. HttpError 400 for a malformed escape.
std::multimap<std::string, std::string> formFields(const Request& req);

/// The first value of a form field, if present.
std::optional<std::string> formField(const std::multimap<std::string, std::string>& fields,
                                     std::string_view name);

/// Hydra's answer to an action: 302 to the page it was sent from (a Referer of this site),
/// else to `fallbackPath` under base_uri.
Response redirectBack(const Site& site, const Request& req, std::string_view fallbackPath);

} // namespace hydra::server

#pragma once
// The page around every handler's HTML: header, navigation and the embedded style sheet.

#include "server/html.hh"
#include "server/http.hh"

#include <string_view>

namespace hydra::server {

class Site;

/// A complete HTML page titled `title` around `body`.
Response pageResponse(const Site& site, std::string_view title, const Html& body, int status = 200);

/// The style sheet, embedded in the program: light and dark schemes, readable at phone width.
std::string_view styleSheet();

} // namespace hydra::server

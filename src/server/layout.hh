#pragma once
// The page around every handler's HTML: header, navigation and the embedded style sheet.

#include "server/html.hh"
#include "server/http.hh"

#include <string_view>
#include <vector>

namespace hydra::server {

class Site;

/// A complete HTML page titled `title` around `body`.
Response pageResponse(const Site& site, std::string_view title, const Html& body, int status = 200);

/// What a page does in a browser with JavaScript beyond being read.
struct PageOptions {
    int status = 200;
    /// Farm events (channels, by the constants beside their senders) after which the page
    /// fetches itself again and shows the new content: queue, running builds, machines,
    /// evaluations, a build.
    std::vector<std::string_view> liveOn;
    /// When set, only events naming this build id (or naming none) refresh the page.
    std::string liveBuild;
    /// The page holds a log that follows its step (log pages of running steps).
    bool followsLog = false;
};
Response pageResponse(const Site& site, std::string_view title, const Html& body, const PageOptions& options);

/// The little script of live pages, embedded in the program; pages work without it.
std::string_view liveScript();

/// The style sheet, embedded in the program: light and dark schemes, readable at phone width.
std::string_view styleSheet();

} // namespace hydra::server

#pragma once
// GET on an action's path (an old link from Hydra's pages, which were plain links): a page
// with the button that posts the action, since a GET itself changes nothing.

#include "server/router.hh"

#include <string_view>

namespace hydra::server {

/// A handler showing `label` and its POST button to a logged-in user (a login link otherwise);
/// 405 for a JSON client, whose script must POST.
Handler confirmActionPage(std::string_view label);

} // namespace hydra::server

#include "server/action_answer.hh"

#include "server/forms.hh"
#include "server/respond.hh"

namespace hydra::server {

Response actionAnswer(const Site& site, const Request& req, std::string_view fallbackPath,
                      const nlohmann::json& result)
{
    if (wantsJson(req)) return jsonResponse(result);
    return redirectBack(site, req, fallbackPath);
}

} // namespace hydra::server

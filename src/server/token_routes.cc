#include "server/token_routes.hh"

#include "db/web_accounts.hh"
#include "db/web_auth.hh"
#include "server/account_access.hh"
#include "server/forms.hh"
#include "server/layout.hh"
#include "server/respond.hh"
#include "server/site.hh"
#include "server/views.hh"
#include "util/error.hh"
#include "util/logging.hh"
#include "util/secrets.hh"

#include <nlohmann/json.hpp>
#include <pqxx/except>

namespace hydra::server {

namespace {

void requireUserExists(const Site& site, const std::string& name)
{
    if (!site.read([&](auto& t) { return db::findAccount(t, name); }))
        throw HttpError(404, "User " + name + " doesn't exist.");
}

std::string tokenNameOf(const Request& req)
{
    std::optional<std::string> name;
    if (req.header("content-type").find("json") != std::string::npos) {
        auto body = nlohmann::json::parse(req.body, nullptr, /*allow_exceptions=*/false);
        if (!body.is_object()) throw HttpError(400, "the body is not a JSON object");
        if (auto it = body.find("name"); it != body.end() && it->is_string()) name = it->get<std::string>();
    } else {
        name = formField(formFields(req), "name");
    }
    if (!name) throw HttpError(400, "give the token a name (field \"name\")");
    try {
        db::checkTokenName(*name);
    } catch (const Error& e) {
        throw HttpError(400, std::string(e.what()) + " (field \"name\")");
    }
    return *name;
}

Html tokenList(const Site& site, const Request& req, const std::string& user,
               const std::vector<db::ApiTokenInfo>& tokens)
{
    Html h;
    if (tokens.empty()) {
        h.raw("<p class=\"muted\">No API tokens.</p>");
        return h;
    }
    h.raw("<div class=\"scroll\"><table><thead><tr><th>Name</th><th>Created</th><th>Last used</th><th></th>"
          "</tr></thead><tbody>");
    for (const auto& tok : tokens) {
        h.raw("<tr><td>")
            .text(tok.name)
            .raw("</td><td>")
            .append(timeView(site, tok.created))
            .raw("</td><td>");
        if (tok.lastUsed)
            h.append(timeView(site, tok.lastUsed));
        else
            h.raw("<span class=\"muted\">never</span>");
        h.raw("</td><td>");
        actionButton(h, req, site.link({"user", user, "tokens", tok.name, "revoke"}), "Revoke");
        h.raw("</td></tr>");
    }
    h.raw("</tbody></table></div>");
    return h;
}

Html createForm(const Site& site, const Request& req, const std::string& user)
{
    Html h;
    h.raw("<h2>New token</h2><form class=\"token\" method=\"post\" action=\"")
        .text(site.link({"user", user, "tokens"}))
        .raw("\">");
    csrfField(h, req);
    h.raw("<p><label>Name <input name=\"name\" required maxlength=\"64\" "
          "pattern=\"[A-Za-z0-9_\\-][A-Za-z0-9._\\-]*\">"
          "</label> <button type=\"submit\">Create</button></p></form>");
    return h;
}

// The one time the token is seen: the page must not be kept by a cache or the browser.
Response noStore(Response r)
{
    r.headers.emplace_back("Cache-Control", "no-store");
    return r;
}

} // namespace

Response tokensPage(const Site& site, const Request& req)
{
    const auto& user = req.param("user");
    const auto& me = requireSelfOrAdmin(req, user);
    requireUserExists(site, user);
    auto tokens = site.read([&](auto& t) { return db::listApiTokens(t, user); });
    if (wantsJson(req)) {
        auto list = nlohmann::json::array();
        for (const auto& tok : tokens)
            list.push_back({{"name", tok.name},
                            {"created", tok.created},
                            {"lastused", tok.lastUsed ? nlohmann::json(*tok.lastUsed) : nlohmann::json()}});
        return jsonResponse(list);
    }
    Html h;
    h.raw("<p>A script authenticates as ")
        .text(user)
        .raw(" by sending <code>Authorization: Bearer TOKEN</code>.</p>");
    h.append(tokenList(site, req, user, tokens));
    if (me.username == user) h.append(createForm(site, req, user));
    h.raw("<p>").link(site.link({"user", user}), "Back to the account").raw("</p>");
    return pageResponse(site, "API tokens of " + user, h);
}

Response tokenCreate(const Site& site, const Request& req)
{
    const auto& user = req.param("user");
    const auto& me = requireSelfOrAdmin(req, user);
    if (me.username != user)
        throw HttpError(403, "Only " + user + " can create API tokens for " + user + ".");
    requireSessionLogin(req, "Creating an API token");
    auto name = tokenNameOf(req);
    auto token = randomToken();
    try {
        site.write([&](auto& t) { db::createApiToken(t, user, name, sha256Hex(token), site.now()); });
    } catch (const pqxx::unique_violation&) {
        throw HttpError(409, "user '" + user + "' already has a token named '" + name + "'");
    } catch (const Error& e) {
        throw HttpError(409, e.what());
    }
    log::info("user '{}' created API token '{}'", user, name);
    if (wantsJson(req)) return noStore(jsonResponse({{"name", name}, {"token", token}}, 201));
    Html h;
    h.raw("<p>The token <strong>").text(name).raw("</strong>:</p><pre class=\"token\">").text(token);
    h.raw("</pre><p>Copy it now: it is not shown again (only a hash of it is kept). A script sends it as "
          "<code>Authorization: Bearer TOKEN</code>.</p><p>")
        .link(site.link({"user", user, "tokens"}), "Back to the tokens")
        .raw("</p>");
    return noStore(pageResponse(site, "New API token", h, 201));
}

Response tokenRevoke(const Site& site, const Request& req)
{
    const auto& user = req.param("user");
    const auto& name = req.param("token");
    const auto& me = requireSelfOrAdmin(req, user);
    if (!site.write([&](auto& t) { return db::revokeApiToken(t, user, name); }))
        throw HttpError(404, "user '" + user + "' has no token named '" + name + "'");
    log::info("user '{}' revoked API token '{}' of '{}'", me.username, name, user);
    if (req.method != "POST" || wantsJson(req)) {
        Response r;
        r.status = 204;
        return r;
    }
    return Response::redirect(302, site.absoluteUrl("/user/" + percentEncode(user) + "/tokens"));
}

} // namespace hydra::server

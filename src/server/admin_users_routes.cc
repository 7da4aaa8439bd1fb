#include "server/admin_users_routes.hh"

#include "db/users.hh"
#include "db/web_accounts.hh"
#include "server/account_form.hh"
#include "server/forms.hh"
#include "server/json_objects.hh"
#include "server/layout.hh"
#include "server/permissions.hh"
#include "server/respond.hh"
#include "server/site.hh"
#include "util/logging.hh"
#include "util/password.hh"

namespace hydra::server {

namespace {

Html usersTable(const Site& site, const std::vector<db::web::User>& users)
{
    Html h;
    h.raw(
        "<div class=\"scroll\"><table><thead><tr><th>User name</th><th>Full name</th><th>E-mail address</th>"
        "<th>Roles</th></tr></thead><tbody>");
    for (const auto& u : users) {
        h.raw("<tr><td>").link(site.link({"user", u.userName}), u.userName).raw("</td><td>").text(u.fullName);
        h.raw("</td><td>").text(u.emailAddress).raw("</td><td>");
        for (size_t i = 0; i < u.roles.size(); ++i) h.text(i ? ", " : "").text(u.roles[i]);
        h.raw("</td></tr>");
    }
    h.raw("</tbody></table></div>");
    return h;
}

void input(Html& h, Markup label, Markup name, Markup type, Markup autocomplete)
{
    h.raw("<p><label>").raw(label).raw(" <input name=\"").raw(name).raw("\" type=\"").raw(type);
    h.raw("\" autocomplete=\"").raw(autocomplete).raw("\" required></label></p>");
}

Html registerForm(const Site& site, const Request& req)
{
    Html h;
    h.raw("<form class=\"account\" method=\"post\" action=\"").text(site.url("/register")).raw("\">");
    csrfField(h, req);
    input(h, "User name", "username", "text", "off");
    input(h, "Full name", "fullname", "text", "off");
    h.raw("<p><label>E-mail address <input name=\"emailaddress\" type=\"email\" autocomplete=\"off\">"
          "</label></p>");
    input(h, "Password", "password", "password", "new-password");
    input(h, "Password again", "password2", "password", "new-password");
    h.raw("<fieldset><legend>Roles</legend><input type=\"hidden\" name=\"setroles\" value=\"1\">");
    for (const auto& role : db::knownRoles())
        h.raw("<label><input type=\"checkbox\" name=\"roles\" value=\"")
            .text(role)
            .raw("\"> ")
            .text(role)
            .raw("</label> ");
    h.raw("</fieldset><p><button type=\"submit\">Create</button></p></form>");
    return h;
}

} // namespace

Response adminUsersPage(const Site& site, const Request& req)
{
    requireAdmin(req);
    auto users = site.read([](auto& t) { return db::listAccounts(t); });
    if (wantsJson(req)) {
        auto list = nlohmann::json::array();
        for (const auto& u : users) list.push_back(toJson(u));
        return jsonResponse(list);
    }
    Html h;
    h.raw("<p>").link(site.url("/register"), "Create a user").raw("</p>");
    h.append(usersTable(site, users));
    return pageResponse(site, "Users", h);
}

Response registerPage(const Site& site, const Request& req)
{
    requireAdmin(req);
    return pageResponse(site, "Create a user", registerForm(site, req));
}

Response registerAction(const Site& site, const Request& req)
{
    requireAdmin(req);
    auto f = accountFields(req);
    if (!f.userName) throw HttpError(400, "give the new user's name (field \"username\")");
    if (!f.fullName) throw HttpError(400, "you must specify the full name (field \"fullname\")");
    if (!f.password)
        throw HttpError(400, "give the new user's password (fields \"password\" and \"password2\")");
    db::AccountChange c{.userName = *f.userName,
                        .fullName = f.fullName,
                        .emailAddress = f.emailAddress,
                        .passwordHash = hashPassword(*f.password),
                        .roles = f.roles};
    if (!site.write([&](auto& t) { return db::createAccount(t, c); }))
        throw HttpError(409, "the user name " + c.userName + " is already taken");
    log::info("user '{}' created user '{}'", req.user->username, c.userName);
    if (req.method != "POST" || wantsJson(req)) {
        Response r;
        r.status = 204;
        return r;
    }
    return Response::redirect(302, site.absoluteUrl("/user/" + percentEncode(c.userName)));
}

} // namespace hydra::server

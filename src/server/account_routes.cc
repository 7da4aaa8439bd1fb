#include "server/account_routes.hh"

#include "db/users.hh"
#include "db/web_accounts.hh"
#include "server/account_access.hh"
#include "server/account_form.hh"
#include "server/forms.hh"
#include "server/json_objects.hh"
#include "server/layout.hh"
#include "server/permissions.hh"
#include "server/respond.hh"
#include "server/site.hh"
#include "util/logging.hh"
#include "util/password.hh"

#include <algorithm>

namespace hydra::server {

namespace {

db::Account accountOrNotFound(const Site& site, const std::string& name)
{
    auto account = site.read([&](auto& t) { return db::findAccount(t, name); });
    if (!account) throw HttpError(404, "User " + name + " doesn't exist.");
    return *account;
}

void textInput(Html& h, Markup label, Markup name, Markup type, std::string_view value, Markup autocomplete)
{
    h.raw("<p><label>").raw(label).raw(" <input name=\"").raw(name).raw("\" type=\"").raw(type);
    h.raw("\" autocomplete=\"").raw(autocomplete).raw("\" value=\"").text(value).raw("\"></label></p>");
}

void roleBoxes(Html& h, const db::web::User& u)
{
    h.raw("<fieldset><legend>Roles</legend><input type=\"hidden\" name=\"setroles\" value=\"1\">");
    for (const auto& role : db::knownRoles()) {
        bool held = std::ranges::find(u.roles, role) != u.roles.end();
        h.raw("<label><input type=\"checkbox\" name=\"roles\" value=\"").text(role).raw("\"");
        if (held) h.raw(" checked");
        h.raw("> ").text(role).raw("</label> ");
    }
    h.raw("</fieldset>");
}

Html editForm(const Site& site, const Request& req, const db::Account& a)
{
    const auto& u = a.user;
    Html h;
    h.raw("<h2>Edit</h2><form class=\"account\" method=\"post\" action=\"")
        .text(site.link({"user", u.userName}))
        .raw("\">");
    csrfField(h, req);
    textInput(h, "Full name", "fullname", "text", u.fullName, "name");
    if (a.type == "hydra") {
        textInput(h, "E-mail address", "emailaddress", "email", u.emailAddress, "email");
        textInput(h, "New password (empty: unchanged)", "password", "password", "", "new-password");
        textInput(h, "New password again", "password2", "password", "", "new-password");
    }
    if (req.user && req.user->isAdmin()) roleBoxes(h, u);
    h.raw("<p><button type=\"submit\">Save</button></p></form>");
    return h;
}

Html accountView(const Site& site, const Request& req, const db::Account& a)
{
    const auto& u = a.user;
    Html h;
    h.raw("<dl><dt>User name</dt><dd>").text(u.userName).raw("</dd><dt>Full name</dt><dd>").text(u.fullName);
    h.raw("</dd><dt>E-mail address</dt><dd>").text(u.emailAddress).raw("</dd><dt>Logs in with</dt><dd>");
    h.text(a.type).raw("</dd><dt>Roles</dt><dd>");
    if (u.roles.empty()) h.text("none");
    for (size_t i = 0; i < u.roles.size(); ++i) h.text(i ? ", " : "").text(u.roles[i]);
    h.raw("</dd></dl><p>").link(site.link({"user", u.userName, "tokens"}), "API tokens");
    if (req.user && req.user->isAdmin()) h.raw(" · ").link(site.url("/admin/users"), "All users");
    h.raw("</p>");
    h.append(editForm(site, req, a));
    if (req.user && req.user->isAdmin()) {
        h.raw("<h2>Delete</h2>");
        actionButton(h, req, site.link({"user", u.userName, "delete"}), "Delete this user");
    }
    return h;
}

bool answersJson(const Request& req)
{
    return req.method != "POST" || wantsJson(req);
}

// The change a sender may make: roles only by admins, a password only from a browser session,
// and no e-mail address or password for users who log in through another site.
db::AccountChange checkedChange(const Request& req, const db::Account& a, AccountFields f)
{
    const auto& me = requireUser(req);
    if (f.userName && *f.userName != a.user.userName)
        throw HttpError(400, "the user name (field \"username\") cannot be changed here");
    if (f.roles && !me.isAdmin()) throw HttpError(403, "Only administrators can change roles.");
    if (f.password) requireSessionLogin(req, "Changing a password");
    if (f.emailAddress == a.user.emailAddress) f.emailAddress.reset();
    if (a.type != "hydra" && (f.password || f.emailAddress))
        throw HttpError(400, a.user.userName + " logs in through " + a.type +
                                 ": its password and e-mail address are not kept here");
    db::AccountChange c{.userName = a.user.userName,
                        .fullName = f.fullName,
                        .emailAddress = f.emailAddress,
                        .roles = f.roles};
    // Argon2 is slow on purpose: hashed before the transaction, not while holding it.
    if (f.password) c.passwordHash = hashPassword(*f.password);
    return c;
}

} // namespace

Response userPage(const Site& site, const Request& req)
{
    const auto& name = req.param("user");
    requireSelfOrAdmin(req, name);
    auto account = accountOrNotFound(site, name);
    if (wantsJson(req)) return jsonResponse(toJson(account.user));
    return pageResponse(site, "User " + name, accountView(site, req, account));
}

Response userUpdate(const Site& site, const Request& req)
{
    const auto& name = req.param("user");
    const auto& me = requireSelfOrAdmin(req, name);
    auto fields = accountFields(req);
    auto change = checkedChange(req, accountOrNotFound(site, name), std::move(fields));
    bool keepsAdmin = !change.roles || std::ranges::find(*change.roles, "admin") != change.roles->end();
    int ended = site.write([&](auto& t) {
        if (!keepsAdmin && db::isLastAdmin(t, name))
            throw HttpError(409, "refused: " + name +
                                     " is the only administrator; make another user an "
                                     "administrator first");
        if (!db::updateAccount(t, change)) throw HttpError(404, "User " + name + " doesn't exist.");
        // A new password ends the sessions the old one opened (but the one that changed it).
        return change.passwordHash ? db::endSessions(t, name, me.username == name ? me.sessionHash : "") : 0;
    });
    log::info("user '{}' updated account '{}'{}{}", me.username, name, change.roles ? " with its roles" : "",
              change.passwordHash ? fmt::format(", new password, {} other sessions ended", ended) : "");
    if (answersJson(req)) {
        Response r;
        r.status = 204;
        return r;
    }
    return Response::redirect(302, site.absoluteUrl("/user/" + percentEncode(name)));
}

Response userDelete(const Site& site, const Request& req)
{
    requireAdmin(req);
    const auto& name = req.param("user");
    std::string project;
    auto refusal = site.write([&](auto& t) {
        if (db::isLastAdmin(t, name)) throw HttpError(409, "refused: " + name + " is the only administrator");
        return db::deleteAccount(t, name, &project);
    });
    if (refusal == db::DeleteRefusal::NoSuchUser) throw HttpError(404, "User " + name + " doesn't exist.");
    if (refusal == db::DeleteRefusal::OwnsProject)
        throw HttpError(409, "User " + name + " is still owner of project " + project + ".");
    log::info("user '{}' deleted user '{}'", req.user->username, name);
    if (answersJson(req)) {
        Response r;
        r.status = 204;
        return r;
    }
    return Response::redirect(302, site.absoluteUrl("/admin/users"));
}

} // namespace hydra::server

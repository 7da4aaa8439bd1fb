#include "server/config_forms.hh"

#include "server/forms.hh"

namespace hydra::server {

namespace {

void textInput(Html& h, Markup label, Markup name, std::string_view value)
{
    h.raw("<p><label>").raw(label).raw("<br><input type=\"text\" name=\"").raw(name).raw("\" value=\"");
    h.text(value).raw("\" size=\"60\"></label></p>");
}

void numberInput(Html& h, Markup label, Markup name, int value)
{
    h.raw("<p><label>").raw(label).raw("<br><input type=\"number\" name=\"").raw(name).raw("\" value=\"");
    h.number(value).raw("\"></label></p>");
}

void checkbox(Html& h, Markup label, Markup name, bool checked)
{
    h.raw("<p><label><input type=\"checkbox\" name=\"").raw(name).raw("\" value=\"1\"");
    if (checked) h.raw(" checked");
    h.raw("> ").raw(label).raw("</label></p>");
}

void inputRow(Html& h, size_t n, const db::JobsetInputConfig& in)
{
    auto nr = static_cast<long long>(n);
    h.raw("<tr><td><input type=\"text\" name=\"input-").number(nr).raw("-name\" value=\"").text(in.name);
    h.raw("\"></td><td><select name=\"input-").number(nr).raw("-type\">");
    for (const auto& type : db::knownInputTypes()) {
        h.raw("<option");
        if (type == in.type) h.raw(" selected");
        h.raw(">").text(type).raw("</option>");
    }
    h.raw("</select></td><td><input type=\"text\" size=\"50\" name=\"input-")
        .number(nr)
        .raw("-value\" value=\"");
    h.text(in.value).raw("\"></td><td><input type=\"checkbox\" value=\"1\" name=\"input-").number(nr);
    h.raw("-emailresponsible\"");
    if (in.emailResponsible) h.raw(" checked");
    h.raw("></td></tr>");
}

} // namespace

Html projectForm(const Request& req, std::string_view action, const db::ProjectConfig& c, bool withOwner,
                 std::string_view submitLabel)
{
    Html h;
    h.raw("<form class=\"config\" method=\"post\" action=\"").text(action).raw("\">");
    csrfField(h, req);
    textInput(h, "Identifier", "name", c.name);
    textInput(h, "Display name", "displayname", c.displayName);
    textInput(h, "Description", "description", c.description);
    textInput(h, "Homepage", "homepage", c.homepage);
    if (withOwner) textInput(h, "Owner", "owner", c.owner);
    checkbox(h, "Enabled", "enabled", c.enabled);
    checkbox(h, "Visible in the list of projects", "visible", !c.hidden);
    checkbox(h, "Dynamic RunCommand", "enable_dynamic_run_command", c.enableDynamicRunCommand);
    h.raw("<fieldset><legend>Declarative specification (optional)</legend>");
    textInput(h, "File in the input", "declfile", c.declFile);
    h.raw("<p><label>Input type<br><select name=\"decltype\">");
    for (const auto& type : db::knownInputTypes()) {
        h.raw("<option");
        if (type == c.declType || (c.declType.empty() && type == "git")) h.raw(" selected");
        h.raw(">").text(type).raw("</option>");
    }
    h.raw("</select></label></p>");
    textInput(h, "Input value", "declvalue", c.declValue);
    h.raw("</fieldset><p><button type=\"submit\">").text(submitLabel).raw("</button></p></form>");
    return h;
}

Html jobsetForm(const Request& req, std::string_view action, const db::JobsetConfig& c,
                std::string_view submitLabel)
{
    Html h;
    h.raw("<form class=\"config\" method=\"post\" action=\"").text(action).raw("\">");
    csrfField(h, req);
    textInput(h, "Identifier", "name", c.name);
    textInput(h, "Description", "description", c.description);
    h.raw("<p><label>Type<br><select name=\"type\"><option value=\"0\"");
    if (c.type == 0) h.raw(" selected");
    h.raw(">Nix expression and inputs</option><option value=\"1\"");
    if (c.type == 1) h.raw(" selected");
    h.raw(">Flake</option></select></label></p>");
    textInput(h, "Nix expression: input", "nixexprinput", c.nixExprInput);
    textInput(h, "Nix expression: path in the input", "nixexprpath", c.nixExprPath);
    textInput(h, "Flake URI", "flake", c.flake);
    h.raw("<p><label>State<br><select name=\"enabled\">");
    static const char* const states[] = {"Disabled", "Enabled", "One-shot", "One at a time"};
    for (int i = 0; i < 4; ++i) {
        h.raw("<option value=\"").number(i).raw("\"");
        if (c.enabled == i) h.raw(" selected");
        h.raw(">").text(states[i]).raw("</option>");
    }
    h.raw("</select></label></p>");
    checkbox(h, "Visible", "visible", !c.hidden);
    numberInput(h, "Check interval (seconds, 0: never)", "checkinterval", c.checkInterval);
    numberInput(h, "Scheduling shares", "schedulingshares", c.schedulingShares);
    numberInput(h, "Number of evaluations to keep", "keepnr", c.keepNr);
    checkbox(h, "E-mail notification", "enableemail", c.enableEmail);
    textInput(h, "E-mail override", "emailoverride", c.emailOverride);
    checkbox(h, "Dynamic RunCommand", "enable_dynamic_run_command", c.enableDynamicRunCommand);
    h.raw("<h3>Inputs</h3><table><thead><tr><th>Name</th><th>Type</th><th>Value</th>"
          "<th>Notify committers</th></tr></thead><tbody>");
    size_t n = 0;
    for (const auto& in : c.inputs) inputRow(h, n++, in);
    // Blank rows for new inputs; a row left without a name is ignored.
    for (int i = 0; i < 3; ++i) inputRow(h, n++, {"", "git", "", false});
    h.raw("</tbody></table><p><button type=\"submit\">").text(submitLabel).raw("</button></p></form>");
    return h;
}

Html deleteForm(const Request& req, std::string_view action, std::string_view label)
{
    Html h;
    h.raw("<form class=\"action\" method=\"post\" action=\"").text(action);
    h.raw("\" onsubmit=\"return confirm('Delete? This cannot be undone.')\">");
    csrfField(h, req);
    h.raw("<button type=\"submit\">").text(label).raw("</button></form>");
    return h;
}

} // namespace hydra::server

#include "notify/email.hh"

#include "notify/mail_text.hh"
#include "notify/status_text.hh"
#include "util/error.hh"
#include "util/logging.hh"

#include <cstdlib>
#include <map>
#include <unistd.h>

namespace hydra::notify {

namespace {

std::string showJobName(const db::EmailBuild& b)
{
    return b.project + ":" + b.jobset + ":" + b.job;
}

std::string trim(std::string_view s)
{
    auto from = s.find_first_not_of(" \t\r\n");
    if (from == std::string_view::npos) return {};
    auto to = s.find_last_not_of(" \t\r\n");
    return std::string(s.substr(from, to - from + 1));
}

/// Whether Hydra mails about `b`: e-mail on for its jobset, not aborted or cancelled, and a
/// status different from the previous build's (or no previous build).
bool mailWorthy(const db::EmailBuild& b)
{
    if (!b.enableEmail || !b.finished) return false;
    int status = b.buildStatus.value_or(-1);
    if (status == 3 || status == 4) return false;
    return !b.previousStatus || *b.previousStatus != status;
}

/// Address -> the builds to tell it about, top first.
std::map<std::string, std::vector<const db::EmailBuild*>>
recipients(const std::vector<const db::EmailBuild*>& builds)
{
    std::map<std::string, std::vector<const db::EmailBuild*>> out;
    for (const auto* b : builds) {
        if (!mailWorthy(*b)) continue;
        const std::string& to = b->emailOverride.empty() ? b->maintainers : b->emailOverride;
        size_t from = 0;
        while (from <= to.size()) {
            auto comma = to.find(',', from);
            std::string addr = trim(std::string_view(to).substr(
                from, comma == std::string::npos ? std::string::npos : comma - from));
            if (!addr.empty()) out[addr].push_back(b);
            if (comma == std::string::npos) break;
            from = comma + 1;
        }
    }
    return out;
}

std::string mailBody(const db::EmailBuild& top, const std::vector<const db::EmailBuild*>& deps,
                     bool showSystem, const std::string& baseUrl)
{
    int status = top.buildStatus.value_or(-1);
    std::string s = "Hi,\n\nThe status of Hydra job ‘" + showJobName(top) + "’ ";
    if (showSystem) s += "(on " + top.system + ") ";
    if (top.previousStatus && *top.previousStatus != status)
        s += fmt::format("has changed from \"{}\" to \"{}\"", showStatus(*top.previousStatus),
                         showStatus(status));
    else
        s += fmt::format("is \"{}\"", showStatus(status));
    s += fmt::format(".  For details, see\n\n  {}/build/{}\n\n", baseUrl, top.id);
    if (!deps.empty()) {
        s += "The following dependent jobs also failed:\n\n";
        for (const auto* d : deps) s += fmt::format("* {} ({}/build/{})\n", showJobName(*d), baseUrl, d->id);
        s += "\n";
    }
    if (status == 0)
        s += "Yay!\n";
    else
        s += deps.empty() ? "Go forth and fix it.\n" : "Go forth and fix them.\n";
    s += "\nRegards,\n\nThe Hydra build daemon.\n";
    return s;
}

MailMessage composeOne(const db::EmailBuild& top, const std::string& to,
                       const std::vector<const db::EmailBuild*>& builds, const EmailSettings& settings)
{
    std::vector<const db::EmailBuild*> deps;
    for (const auto* b : builds)
        if (b->id != top.id) deps.push_back(b);
    // As Hydra: the system is shown unless the job's name already contains it.
    bool showSystem = top.job.find(top.system) == std::string::npos;
    std::string subject = showStatus(top.buildStatus.value_or(-1)) + ": Hydra job " + showJobName(top);
    if (showSystem) subject += " on " + top.system;
    if (!deps.empty()) subject += fmt::format(" (and {} others)", deps.size());

    MailHeaders headers = {
        {"To", to},
        {"From", "Hydra Build Daemon <" + settings.sender + ">"},
        {"Subject", subject},
        {"X-Hydra-Instance", settings.baseUrl},
        {"X-Hydra-Project", top.project},
        {"X-Hydra-Jobset", top.jobset},
        {"X-Hydra-Job", top.job},
        {"X-Hydra-System", top.system},
    };
    return MailMessage{
        settings.sender, {to}, mailText(headers, mailBody(top, deps, showSystem, settings.baseUrl))};
}

std::string hostName()
{
    char name[256] = {};
    if (::gethostname(name, sizeof name - 1) != 0 || name[0] == 0) return "localhost";
    return name;
}

} // namespace

std::vector<MailMessage> composeEmails(const db::EmailBuild& top,
                                       const std::vector<db::EmailBuild>& dependents,
                                       const EmailSettings& settings)
{
    std::vector<const db::EmailBuild*> builds{&top};
    for (const auto& d : dependents) builds.push_back(&d);
    std::vector<MailMessage> out;
    for (const auto& [to, forAddr] : recipients(builds))
        out.push_back(composeOne(top, to, forAddr, settings));
    return out;
}

void EmailNotification::handle(const Event& event, const PluginContext& ctx)
{
    log::Context where{event.buildId(), 0, {}};
    auto [top, deps] = ctx.db.withTransaction([&](pqxx::work& t) {
        auto b = db::loadEmailBuild(t, event.buildId());
        std::vector<db::EmailBuild> ds;
        for (auto id : event.dependents())
            if (auto d = db::loadEmailBuild(t, id)) ds.push_back(std::move(*d));
        return std::pair(std::move(b), std::move(ds));
    });
    if (!top) {
        log::event(log::Level::Warn, where, "EmailNotification: build no longer exists, no mail sent");
        return;
    }
    if (!top->finished) {
        log::event(log::Level::Warn, where,
                   "EmailNotification: build is not finished (restarted?), no mail sent");
        return;
    }
    for (const auto& mail : composeEmails(*top, deps, settings_)) {
        log::event(log::Level::Info, where, "sending mail notification to {}", mail.to.front());
        sendMail(settings_.server, mail);
    }
}

std::unique_ptr<Plugin> makeEmail(const HydraConfig& config)
{
    if (!config.notify.emailNotification) return nullptr;
    const SmtpSettings& smtp = config.notify.smtp;
    if (!smtp.transport.empty() && smtp.transport != "SMTP") {
        log::error(
            "email_notification: EMAIL_SENDER_TRANSPORT ‘{}’ is not supported (only SMTP); no mail is sent",
            smtp.transport);
        return nullptr;
    }
    if ((!smtp.ssl.empty() && smtp.ssl != "0") || !smtp.saslUsername.empty()) {
        log::error("email_notification: SMTP with TLS or SASL is not supported; no mail is sent");
        return nullptr;
    }
    EmailSettings s;
    if (!smtp.host.empty()) s.server.host = smtp.host;
    s.server.port = smtp.port.value_or(25);
    s.server.helo = smtp.helo;
    const char* user = std::getenv("USER"); // NOLINT(concurrency-mt-unsafe): read once at start-up
    s.sender = config.notify.notificationSender.value_or(std::string(user && *user ? user : "hydra") + "@" +
                                                         hostName());
    s.baseUrl = config.web.baseUri.value_or("http://" + hostName() + ":3000");
    return std::make_unique<EmailNotification>(std::move(s));
}

} // namespace hydra::notify

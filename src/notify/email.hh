#pragma once
// EmailNotification: the plugin that mails the people of a jobset when a job's status changes,
// with Hydra's recipients, subject, headers and body.

#include "db/email_recipients.hh"
#include "db/queue_notify.hh"
#include "notify/plugin.hh"
#include "notify/smtp_client.hh"
#include "util/hydra_config.hh"

#include <memory>
#include <string>
#include <vector>

namespace hydra::notify {

/// Who sends the mails, how, and the web address the mails link to.
struct EmailSettings {
    SmtpServer server;
    std::string sender;  ///< notification_sender, else $USER@host
    std::string baseUrl; ///< base_uri, else http://<host>:3000
};

/// The mails Hydra sends for `top` finishing with `dependents`: one per address, listing the
/// builds whose status changed (or that are the first of their job) in a jobset with e-mail on.
std::vector<MailMessage> composeEmails(const db::EmailBuild& top,
                                       const std::vector<db::EmailBuild>& dependents,
                                       const EmailSettings& settings);

/// Hydra's EmailNotification plugin: on build_finished, loads the build and its dependents and
/// sends composeEmails() through the SMTP server; an unreachable server makes handle() throw.
class EmailNotification : public Plugin {
public:
    explicit EmailNotification(EmailSettings settings) : settings_(std::move(settings)) {}
    std::string_view name() const override { return "EmailNotification"; }
    bool wants(const std::string& channel) const override { return channel == db::channel::buildFinished; }
    void handle(const Event& event, const PluginContext& ctx) override;

private:
    EmailSettings settings_;
};

/// The plugin when email_notification is on, else nullptr. A transport it cannot use (TLS,
/// SASL, sendmail) is logged as an error and the plugin stays off.
std::unique_ptr<Plugin> makeEmail(const HydraConfig& config);

} // namespace hydra::notify

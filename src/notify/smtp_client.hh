#pragma once
// A small SMTP client (RFC 5321, plain TCP) for the e-mail plugin: one session delivers one
// message to its recipients, every read and write bounded by a timeout.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace hydra::notify {

/// Where and how to deliver mail.
struct SmtpServer {
    std::string host = "localhost";
    uint16_t port = 25;
    std::string helo;                          ///< name sent in EHLO; empty: this host's name
    std::chrono::milliseconds timeout{60'000}; ///< per connect, read and write
};

/// One message: the envelope and the RFC 5322 text (headers, blank line, body; LF or CRLF).
struct MailMessage {
    std::string from;
    std::vector<std::string> to;
    std::string text;
};

/// Delivers `msg` through `server`: EHLO (HELO if refused), MAIL FROM, RCPT TO for each
/// recipient, DATA with dot-stuffing, QUIT. Throws hydra::Error naming "host:port" and the
/// server's reply (or TimeoutError) when the server cannot be reached or refuses the message.
void sendMail(const SmtpServer& server, const MailMessage& msg);

/// The DATA payload for `text`: CRLF line endings, lines starting with '.' doubled, ending
/// with the terminating "<CRLF>.<CRLF>".
std::string smtpDataPayload(const std::string& text);

} // namespace hydra::notify

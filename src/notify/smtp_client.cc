#include "notify/smtp_client.hh"

#include "util/error.hh"
#include "util/fd.hh"
#include "util/strings.hh"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace hydra::notify {

namespace {

/// A reply: the three-digit code and its text (all lines of a multi-line reply).
struct Reply {
    int code = 0;
    std::string text;
};

/// Waits for a non-blocking connect() to finish; returns 0 or the socket's error.
int finishConnect(int fd, Deadline deadline)
{
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline -
                                                                          std::chrono::steady_clock::now());
        if (left.count() <= 0) return ETIMEDOUT;
        pollfd p{fd, POLLOUT, 0};
        int r = ::poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), 60'000)));
        if (r < 0 && errno != EINTR) return errno;
        if (r <= 0) continue;
        int err = 0;
        socklen_t len = sizeof err;
        if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) return errno;
        return err;
    }
}

/// Connects to host:port, trying each address; throws naming the server and the reason.
AutoFd connectTo(const SmtpServer& s, const std::string& where)
{
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    int gai = ::getaddrinfo(s.host.c_str(), std::to_string(s.port).c_str(), &hints, &res);
    if (gai != 0) throw Error("SMTP server {}: cannot resolve host: {}", where, ::gai_strerror(gai));
    std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> guard(res, ::freeaddrinfo);
    auto deadline = std::chrono::steady_clock::now() + s.timeout;
    int lastErr = 0;
    for (addrinfo* a = res; a; a = a->ai_next) {
        AutoFd fd(::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol));
        if (!fd) {
            lastErr = errno;
            continue;
        }
        int r = ::connect(fd.get(), a->ai_addr, a->ai_addrlen);
        lastErr = r == 0 ? 0 : errno == EINPROGRESS ? finishConnect(fd.get(), deadline) : errno;
        if (lastErr == 0) return fd;
    }
    if (lastErr == ETIMEDOUT) throw TimeoutError("SMTP server {}: connection timed out", where);
    throw Error("SMTP server {}: cannot connect: {}", where, std::strerror(lastErr));
}

/// One SMTP session over a connected socket.
class Session {
public:
    Session(const SmtpServer& s)
        : server_(s), where_(fmt::format("{}:{}", s.host, s.port)), fd_(connectTo(s, where_))
    {}

    /// Reads one (possibly multi-line) reply.
    Reply read()
    {
        Reply r;
        for (;;) {
            std::string line = readLine();
            if (line.size() < 3 || !std::isdigit(static_cast<unsigned char>(line[0])))
                throw Error("SMTP server {}: malformed reply ‘{}’", where_, line);
            r.code = std::stoi(line.substr(0, 3));
            if (!r.text.empty()) r.text += " / ";
            r.text += line;
            if (line.size() == 3 || line[3] != '-') return r;
        }
    }

    /// Sends a command and checks the reply's code is `expect` (2xx or 3xx).
    Reply command(const std::string& cmd, int expect, std::string_view shown = {})
    {
        send(cmd + "\r\n");
        return expectReply(shown.empty() ? std::string_view(cmd) : shown, expect);
    }

    Reply expectReply(std::string_view what, int expect)
    {
        Reply r = read();
        if (r.code / 100 != expect / 100)
            throw Error("SMTP server {} refused {}: ‘{}’", where_, what, oneLine(r.text));
        return r;
    }

    void send(std::string_view data) { writeAll(fd_.get(), data, deadline(), "SMTP server " + where_); }

    const std::string& where() const { return where_; }

private:
    Deadline deadline() const { return std::chrono::steady_clock::now() + server_.timeout; }

    std::string readLine()
    {
        for (;;) {
            auto nl = buf_.find("\r\n");
            if (nl != std::string::npos) {
                std::string line = buf_.substr(0, nl);
                buf_.erase(0, nl + 2);
                return line;
            }
            if (buf_.size() > size_t{64} * 1024) throw Error("SMTP server {}: reply line too long", where_);
            char chunk[4096];
            size_t n = readSome(fd_.get(), chunk, sizeof chunk, deadline(), "SMTP server " + where_);
            if (n == 0) throw Error("SMTP server {} closed the connection", where_);
            buf_.append(chunk, n);
        }
    }

    const SmtpServer& server_;
    std::string where_;
    AutoFd fd_;
    std::string buf_;
};

std::string localHostName()
{
    char name[256] = {};
    if (::gethostname(name, sizeof name - 1) != 0 || name[0] == 0) return "localhost";
    return name;
}

void checkAddress(const std::string& addr)
{
    if (addr.find_first_of("\r\n<>") != std::string::npos)
        throw Error("invalid e-mail address ‘{}’", oneLine(addr));
}

} // namespace

std::string smtpDataPayload(const std::string& text)
{
    std::string out;
    out.reserve(text.size() + text.size() / 32 + 5);
    bool lineStart = true;
    for (size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (lineStart && c == '.') out += '.';
        lineStart = false;
        if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') continue; // CRLF: emit on '\n'
        if (c == '\n') {
            out += "\r\n";
            lineStart = true;
        } else {
            out += c;
        }
    }
    if (!lineStart) out += "\r\n";
    out += ".\r\n";
    return out;
}

void sendMail(const SmtpServer& server, const MailMessage& msg)
{
    if (msg.to.empty()) return;
    checkAddress(msg.from);
    for (const auto& rcpt : msg.to) checkAddress(rcpt);
    Session s(server);
    s.expectReply("the connection", 220);
    std::string helo = server.helo.empty() ? localHostName() : server.helo;
    s.send("EHLO " + helo + "\r\n");
    if (s.read().code / 100 != 2) s.command("HELO " + helo, 250);
    s.command("MAIL FROM:<" + msg.from + ">", 250);
    for (const auto& rcpt : msg.to) s.command("RCPT TO:<" + rcpt + ">", 250);
    s.command("DATA", 354);
    s.send(smtpDataPayload(msg.text));
    s.expectReply("the message (DATA)", 250);
    // The message is accepted; a server that drops the line at QUIT changes nothing.
    try {
        s.command("QUIT", 221);
    } catch (const Error&) {
    }
}

} // namespace hydra::notify

#include "nix/machine_connection.hh"

#include "nix/stderr_pump.hh"
#include "nix/wire.hh"
#include "util/error.hh"
#include "util/process.hh"

#include <cstdlib>
#include <filesystem>
#include <poll.h>
#include <unistd.h>

namespace hydra::nix {

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// How long an ended session's stderr may take to arrive after its stdout ended.
constexpr auto lastWordsWait = 2s;

std::string inQuotes(std::string_view name)
{
    return fmt::format("‘{}’", name);
}

std::string duration(std::chrono::milliseconds d)
{
    if (d.count() % 1000 == 0) return fmt::format("{} s", d.count() / 1000);
    return fmt::format("{} ms", d.count());
}

std::string commandName(uint64_t code)
{
    using serve::Command;
    switch (static_cast<Command>(code)) {
    case Command::QueryValidPaths: return "QueryValidPaths";
    case Command::QueryPathInfos: return "QueryPathInfos";
    case Command::DumpStorePath: return "DumpStorePath";
    case Command::ImportPaths: return "ImportPaths";
    case Command::ExportPaths: return "ExportPaths";
    case Command::BuildPaths: return "BuildPaths";
    case Command::QueryClosure: return "QueryClosure";
    case Command::BuildDerivation: return "BuildDerivation";
    case Command::AddToStoreNar: return "AddToStoreNar";
    }
    return fmt::format("command {}", code);
}

uint64_t decodeU64(std::string_view b)
{
    uint64_t n = 0;
    for (size_t i = 0; i < 8; ++i) n |= uint64_t{static_cast<unsigned char>(b[i])} << (8 * i);
    return n;
}

/// What the session is doing, shared by its source and sink so that errors can say what was
/// awaited. The protocol alternates: a request, then its reply; so the first 8 bytes written
/// after a read are the next command's code.
struct Session {
    std::string machine;
    MachineConnection::ReadLimits limits;
    std::string lastCommand;
    bool commandNext = false;
    bool closed = false;
    StderrPump* pump = nullptr;

    std::string awaited() const { return limits.what.empty() ? "the reply to " + lastCommand : limits.what; }
    /// The child's last stderr lines as a suffix, once it has had a moment to write them.
    std::string lastWords() const
    {
        if (!pump) return "";
        pump->waitForEnd(lastWordsWait);
        auto t = pump->tail(5);
        return t.empty() ? "" : " (stderr: " + t + ")";
    }
    void checkOpen() const
    {
        if (closed) throw Error("the connection to {} is closed", inQuotes(machine));
    }
};

/// The server's stdout, read within the session's current limits.
class ChildSource : public Source {
public:
    ChildSource(int fd, Session& s) : session_(s), fd_(fd, "nix-store --serve", s.limits.idle) {}

    size_t readSome(char* buf, size_t n) override
    {
        session_.checkOpen();
        auto wait = waitLimit();
        fd_.setReadTimeout(wait);
        size_t k = 0;
        try {
            k = fd_.readSome(buf, n);
        } catch (const TimeoutError&) {
            throw TimeoutError("timed out waiting for {} from {}: nothing arrived for {}", session_.awaited(),
                               inQuotes(session_.machine), duration(wait));
        }
        session_.commandNext = true;
        if (k == 0 && !ended_) {
            ended_ = true;
            endNote_ = session_.lastWords();
        }
        return k;
    }

    /// Bytes read from the server but not yet consumed.
    size_t buffered() const { return fd_.buffered(); }

    std::string describe() const override
    {
        return fmt::format("nix-store --serve on {}{}", inQuotes(session_.machine), endNote_);
    }

private:
    std::chrono::milliseconds waitLimit() const
    {
        auto wait = session_.limits.idle;
        if (!session_.limits.until) return wait;
        auto left = std::chrono::ceil<std::chrono::milliseconds>(*session_.limits.until - Clock::now());
        return std::max(0ms, std::min(wait, left));
    }

    Session& session_;
    FdSource fd_;
    bool ended_ = false;
    std::string endNote_;
};

/// The server's stdin; notes each command for the error messages of its reply.
class ChildSink : public Sink {
public:
    ChildSink(int fd, Session& s, std::chrono::milliseconds timeout)
        : session_(s), fd_(fd, "nix-store --serve", timeout), timeout_(timeout)
    {}

    void write(std::string_view data) override
    {
        session_.checkOpen();
        if (session_.commandNext && data.size() == 8) session_.lastCommand = commandName(decodeU64(data));
        session_.commandNext = false;
        guarded([&] { fd_.write(data); });
    }

    void flush() override
    {
        session_.checkOpen();
        guarded([&] { fd_.flush(); });
    }

private:
    template <typename F> void guarded(F&& f)
    {
        try {
            f();
        } catch (const TimeoutError&) {
            throw TimeoutError("timed out sending {} to {}: it accepted nothing for {}", session_.lastCommand,
                               inQuotes(session_.machine), duration(timeout_));
        } catch (const Error& e) {
            // Typically a broken pipe: the server died, and its stderr says why.
            throw Error("{} while sending {} to {}{}", e.what(), session_.lastCommand,
                        inQuotes(session_.machine), session_.lastWords());
        }
    }

    Session& session_;
    FdSink fd_;
    std::chrono::milliseconds timeout_;
};

/// A private known_hosts file holding one pinned key; removed with its owner.
class KnownHostsFile {
public:
    explicit KnownHostsFile(const std::string& line)
    {
        auto tmpl = (std::filesystem::temp_directory_path() / "hydra-known-hosts-XXXXXX").string();
        AutoFd fd(::mkstemp(tmpl.data()));
        if (!fd) throwSysError("creating " + tmpl);
        path_ = tmpl;
        writeAll(fd.get(), line + "\n", Clock::now() + 10s, path_);
    }
    KnownHostsFile(const KnownHostsFile&) = delete;
    KnownHostsFile& operator=(const KnownHostsFile&) = delete;
    ~KnownHostsFile()
    {
        std::error_code ec;
        std::filesystem::remove(path_, ec);
    }
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

} // namespace

struct MachineConnection::Impl {
    Machine machine;
    ConnectionOptions opts;
    Session session;
    std::optional<KnownHostsFile> knownHosts;
    std::vector<std::string> argv;
    std::optional<Process> proc;
    std::unique_ptr<StderrPump> pump;
    std::optional<ChildSource> from;
    std::optional<ChildSink> to;
    std::optional<serve::ServeClient> client;
    Clock::time_point openedAt = Clock::now();

    Impl(const Machine& m, const ConnectionOptions& o) : machine(m), opts(o)
    {
        session.machine = m.storeUri.empty() ? m.host : m.storeUri;
        session.limits.idle = o.readTimeout;
    }

    void start(LogSink log);
    void handshake();
    std::string connectError(const Error& e);
    /// `graceful`: let the server finish by itself first (not after a failed handshake).
    void close(bool graceful) noexcept;
};

void MachineConnection::Impl::start(LogSink log)
{
    std::vector<std::string> serveCmd = {opts.nixStore, "--serve", "--write"};
    std::vector<std::string> unsetEnv;
    if (machine.kind == MachineKind::Localhost) {
        // A step given to this machine builds here: BuildPaths would otherwise hand it to Nix's
        // build hook, which sends it to the machines of NIX_REMOTE_SYSTEMS or `builders`. An
        // empty `builders` is also the one such setting the daemon takes from any user.
        argv = serveCmd;
        argv.insert(argv.end(), {"--option", "builders", ""});
        unsetEnv.emplace_back("NIX_REMOTE_SYSTEMS");
    } else if (machine.kind == MachineKind::Ssh) {
        if (!machine.publicHostKeyText.empty()) knownHosts.emplace(machine.knownHostsLine());
        argv = sshArgv(machine, opts.ssh, knownHosts ? knownHosts->path() : "", serveCmd);
    } else {
        throw Error("unsupported store URI (only localhost and ssh:// machines can build)");
    }
    proc.emplace(Process::spawn({.argv = argv,
                                 .setEnv = opts.setEnv,
                                 .unsetEnv = unsetEnv,
                                 .pipeStdin = true,
                                 .pipeStdout = true,
                                 .pipeStderr = true}));
    pump = std::make_unique<StderrPump>(proc->err().get(), std::move(log));
    session.pump = pump.get();
    from.emplace(proc->out().get(), session);
    to.emplace(proc->in().get(), session, opts.writeTimeout);
    client.emplace(*from, *to);
}

void MachineConnection::Impl::handshake()
{
    auto saved = session.limits;
    session.limits = {"the serve protocol greeting", opts.handshakeTimeout,
                      Clock::now() + opts.handshakeTimeout};
    session.lastCommand = "the serve protocol greeting";
    client->handshake();
    session.limits = saved;
}

std::string MachineConnection::Impl::connectError(const Error& e)
{
    auto msg = fmt::format("cannot connect to {}: error: {}", inQuotes(session.machine), e.what());
    if (!proc) return msg; // nothing started: the reason says it all
    // The child usually ended on its own (refused, bad host key): say how, with its last words.
    bool timedOut = dynamic_cast<const TimeoutError*>(&e) != nullptr;
    if (proc->running()) {
        if (auto st = proc->waitUntil(Clock::now() + (timedOut ? 0ms : lastWordsWait)))
            msg += fmt::format("; {} {}", argv[0], statusToString(*st));
    }
    auto tail = pump->tail(5);
    if (!tail.empty() && msg.find(tail) == std::string::npos) msg += " (stderr: " + tail + ")";
    return msg;
}

void MachineConnection::Impl::close(bool graceful) noexcept
{
    if (session.closed) return;
    session.closed = true;
    client.reset();
    if (proc) {
        proc->in().close(); // end of input ends the server's command loop
        try {
            auto grace = graceful ? opts.closeGrace : 0ms;
            if (proc->running() && !proc->waitUntil(Clock::now() + grace)) proc->terminate();
        } catch (const Error&) {
            proc->terminate();
        }
    }
    if (pump) pump->stop(); // before its descriptor closes with the process
    session.pump = nullptr;
    from.reset();
    to.reset();
    proc.reset();
    knownHosts.reset();
}

MachineConnection::MachineConnection(const Machine& machine, const ConnectionOptions& opts, LogSink log)
    : impl_(std::make_unique<Impl>(machine, opts))
{
    try {
        impl_->start(std::move(log));
        impl_->handshake();
    } catch (const Error& e) {
        auto msg = impl_->connectError(e);
        impl_->close(false);
        if (dynamic_cast<const TimeoutError*>(&e)) throw TimeoutError(msg);
        throw Error(msg);
    }
}

MachineConnection::MachineConnection(MachineConnection&&) noexcept = default;
MachineConnection& MachineConnection::operator=(MachineConnection&& o) noexcept
{
    if (this != &o) {
        close();
        impl_ = std::move(o.impl_);
    }
    return *this;
}

MachineConnection::~MachineConnection()
{
    close();
}

serve::ServeClient& MachineConnection::client()
{
    if (!impl_ || impl_->session.closed)
        throw Error("the connection to {} is closed", inQuotes(machineName()));
    return *impl_->client;
}

const std::string& MachineConnection::machineName() const
{
    static const std::string none = "(moved-from connection)";
    return impl_ ? impl_->session.machine : none;
}

std::chrono::steady_clock::time_point MachineConnection::openedAt() const
{
    return impl_ ? impl_->openedAt : Clock::time_point{};
}

pid_t MachineConnection::pid() const
{
    return impl_ && impl_->proc && impl_->proc->running() ? impl_->proc->pid() : -1;
}

std::string MachineConnection::stderrTail(size_t lines) const
{
    return impl_ && impl_->pump ? impl_->pump->tail(lines) : "";
}

MachineConnection::ReadScope MachineConnection::expect(std::string what, std::chrono::milliseconds idle,
                                                       std::optional<Deadline> until)
{
    if (!impl_) throw Error("expect() on a moved-from connection");
    auto saved = impl_->session.limits;
    impl_->session.limits = {std::move(what), idle, until};
    return ReadScope(*this, std::move(saved));
}

MachineConnection::ReadScope::~ReadScope()
{
    if (conn_.impl_) conn_.impl_->session.limits = std::move(saved_);
}

bool MachineConnection::reusable() const
{
    if (!impl_ || impl_->session.closed || !impl_->proc || !impl_->proc->running()) return false;
    if (impl_->from->buffered() != 0) return false;
    pollfd p{impl_->proc->out().get(), POLLIN, 0};
    return ::poll(&p, 1, 0) == 0;
}

void MachineConnection::reuse(LogSink log)
{
    if (!impl_ || !impl_->pump) throw Error("reuse() of a closed connection");
    impl_->pump->setSink(std::move(log));
    impl_->pump->clearTail();
}

void MachineConnection::drainLog(std::chrono::milliseconds quiet)
{
    if (impl_ && impl_->pump) impl_->pump->drain(quiet);
}

void MachineConnection::close() noexcept
{
    if (impl_) impl_->close(true);
}

} // namespace hydra::nix

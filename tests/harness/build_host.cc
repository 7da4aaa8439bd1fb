#include "harness/build_host.hh"

#include "util/error.hh"
#include "util/fd.hh"

#include <arpa/inet.h>
#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <fmt/format.h>
#include <fstream>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <random>
#include <sstream>
#include <sys/socket.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace hydra::test {

namespace {

using namespace std::chrono_literals;

// Network namespaces claim one /30 each out of 10.201.0.0/16: 16384 of them.
constexpr int netnsSlots = 16384;

std::string readFile(const std::filesystem::path& p)
{
    std::ifstream f(p);
    if (!f) throw Error("cannot read {}", p.string());
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

void writeFile(const std::filesystem::path& p, const std::string& content)
{
    std::ofstream f(p, std::ios::trunc);
    f << content;
    f.close();
    if (!f) throw Error("cannot write {}", p.string());
}

std::string base64(const std::string& data)
{
    std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
    auto n =
        EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                        reinterpret_cast<const unsigned char*>(data.data()), static_cast<int>(data.size()));
    out.resize(static_cast<size_t>(n));
    return out;
}

/// The "<type> <base64>" part of an OpenSSH public key file, without the comment.
std::string publicKeyLine(const std::filesystem::path& pubFile)
{
    std::istringstream in(readFile(pubFile));
    std::string type, key;
    if (!(in >> type >> key)) throw Error("{} holds no public key", pubFile.string());
    return type + " " + key;
}

void generateKey(const std::filesystem::path& file)
{
    runChecked({.argv = {"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "", "-f", file.string()}}, {},
               30s);
}

/// A loopback port nobody listens on right now (sshd may still lose a race for it; we retry).
int freeLoopbackPort()
{
    AutoFd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!s) throwSysError("creating a socket");
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) throwSysError("binding 127.0.0.1:0");
    socklen_t len = sizeof a;
    if (::getsockname(s.get(), reinterpret_cast<sockaddr*>(&a), &len) != 0) throwSysError("getsockname");
    return ntohs(a.sin_port);
}

/// Whether an SSH server answers with its banner at address:port before the deadline.
bool sshBannerAt(const std::string& address, int port, Deadline deadline)
{
    AutoFd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!s) throwSysError("creating a socket");
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    if (::inet_pton(AF_INET, address.c_str(), &a.sin_addr) != 1) throw Error("bad address {}", address);
    if (::connect(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return false;
    char buf[4];
    size_t got = 0;
    try {
        while (got < sizeof buf) {
            auto n = readSome(s.get(), buf + got, sizeof buf - got, deadline, "ssh banner");
            if (n == 0) return false;
            got += n;
        }
    } catch (const TimeoutError&) {
        return false;
    }
    return std::string_view(buf, sizeof buf) == "SSH-";
}

/// The namespace a /proc link names, e.g. "mnt:[4026532301]"; empty if the process is gone.
std::string nsOf(const std::string& pid, const char* kind)
{
    std::error_code ec;
    auto target = std::filesystem::read_symlink(fmt::format("/proc/{}/ns/{}", pid, kind), ec);
    return ec ? std::string() : target.string();
}

/// Opens the namespace so that the kernel cannot hand its id to a new namespace while `fd` is
/// open (ids are reused at once), and returns that id.
std::string holdNamespace(const std::string& pid, const char* kind, AutoFd& fd)
{
    auto link = fmt::format("/proc/{}/ns/{}", pid, kind);
    fd = AutoFd(::open(link.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) throwSysError("opening " + link);
    return nsOf(pid, kind);
}

RunResult ip(std::vector<std::string> args)
{
    args.insert(args.begin(), "ip");
    return hydra::run({.argv = args}, {}, 30s);
}

void ipChecked(std::vector<std::string> args)
{
    auto r = ip(args);
    if (!exitedOk(r.status)) {
        std::string cmd;
        for (auto& a : args) cmd += " " + a;
        throw Error("ip{}: {}: {}", cmd, statusToString(r.status), r.err);
    }
}

} // namespace

BuildHost::BuildHost(HostNetwork network) : network_(network)
{
    auto tmpl = (std::filesystem::temp_directory_path() / "hydra-host-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throwSysError("creating a directory from " + tmpl);
    dir_ = tmpl;
    try {
        // sshd's privilege separation directory; scripts/setup.sh creates it on a fresh machine.
        std::filesystem::create_directories("/run/sshd");
        std::filesystem::create_directories(dir_ / "nix");
        std::filesystem::create_directories(dir_ / "etc-nix");
        clientKey_ = dir_ / "client_key";
        knownHosts_ = dir_ / "known_hosts";
        config_ = dir_ / "sshd_config";
        generateKey(dir_ / "ssh_host_ed25519_key");
        generateKey(clientKey_);
        hostKeyLine_ = publicKeyLine(dir_ / "ssh_host_ed25519_key.pub");
        hostKeyBase64_ = base64(hostKeyLine_);
        writeFile(dir_ / "authorized_keys", publicKeyLine(dir_ / "client_key.pub") + "\n");
        if (network_ == HostNetwork::OwnNetns) createNetns();
        startSshd();
    } catch (...) {
        teardown();
        throw;
    }
}

BuildHost::~BuildHost()
{
    teardown();
}

void BuildHost::createNetns()
{
    std::random_device rd;
    auto start = std::uniform_int_distribution<int>(0, netnsSlots - 1)(rd);
    int slot = -1;
    // `ip netns add` fails on an existing name: creating the namespace claims its slot atomically.
    for (int i = 0; i < netnsSlots && slot < 0; ++i) {
        int candidate = (start + i) % netnsSlots;
        auto name = fmt::format("hydra-t{}", candidate);
        auto r = ip({"netns", "add", name});
        if (exitedOk(r.status)) {
            slot = candidate;
            netns_ = name;
        } else if (r.err.find("exists") == std::string::npos) {
            throw Error("ip netns add {}: {}", name, r.err);
        }
    }
    if (slot < 0) throw Error("no free network namespace slot hydra-t0..{}", netnsSlots - 1);
    auto prefix = fmt::format("10.201.{}.", slot / 64);
    int base = (slot % 64) * 4;
    vethHost_ = fmt::format("hyt{}a", slot);
    auto peer = fmt::format("hyt{}b", slot);
    address_ = prefix + std::to_string(base + 2);
    ipChecked({"link", "add", vethHost_, "type", "veth", "peer", "name", peer, "netns", netns_});
    ipChecked({"addr", "add", prefix + std::to_string(base + 1) + "/30", "dev", vethHost_});
    ipChecked({"link", "set", vethHost_, "up"});
    ipChecked({"-n", netns_, "addr", "add", address_ + "/30", "dev", peer});
    ipChecked({"-n", netns_, "link", "set", peer, "up"});
    ipChecked({"-n", netns_, "link", "set", "lo", "up"});
    port_ = 22;
}

void BuildHost::writeConfig()
{
    auto d = dir_.string();
    writeFile(config_, fmt::format("Port {}\nListenAddress {}\n"
                                   "HostKey {}/ssh_host_ed25519_key\nPidFile {}/sshd.pid\n"
                                   "AuthorizedKeysFile {}/authorized_keys\n"
                                   "PermitRootLogin prohibit-password\nPubkeyAuthentication yes\n"
                                   "PasswordAuthentication no\nKbdInteractiveAuthentication no\n"
                                   "UsePAM no\nStrictModes no\nPrintMotd no\nUseDNS no\n"
                                   "MaxStartups 100\nMaxSessions 100\nLogLevel VERBOSE\n",
                                   port_, address_, d, d, d));
    // The host's own nix.conf (mounted on /etc/nix): the machine's settings, but never a
    // substituter, so builds there do not wait on the network.
    std::string nixConf;
    if (std::filesystem::exists("/etc/nix/nix.conf")) nixConf = readFile("/etc/nix/nix.conf");
    // No build users: Nix kills every process of a build user before it hands the user to a
    // build, and the machine's own store (and every other host) draw from the same nixbld
    // accounts through their own lock directories, so they would kill each other's builders.
    writeFile(dir_ / "etc-nix" / "nix.conf", nixConf + "\nsubstituters =\nbuild-users-group =\n");
    auto hostPattern = port_ == 22 ? address_ : fmt::format("[{}]:{}", address_, port_);
    writeFile(knownHosts_, hostPattern + " " + hostKeyLine_ + "\n");
}

void BuildHost::startSshd()
{
    // The bind mounts exist only in the new mount namespace; sshd and every session it starts
    // see the fixture's directory as /nix.
    std::vector<std::string> argv = {
        "unshare",
        "-m",
        "--propagation",
        "private",
        "sh",
        "-c",
        "mount --bind \"$1/nix\" /nix && mount --bind \"$1/etc-nix\" /etc/nix && "
        "exec \"$(command -v sshd)\" -D -E \"$1/sshd.log\" -f \"$1/sshd_config\"",
        "sh",
        dir_.string()};
    if (network_ == HostNetwork::OwnNetns) argv.insert(argv.begin(), {"ip", "netns", "exec", netns_});
    for (int attempt = 0; attempt < 5; ++attempt) {
        if (network_ == HostNetwork::Loopback) {
            address_ = "127.0.0.1";
            port_ = freeLoopbackPort();
        }
        writeConfig();
        // Its output goes to a file and it dies with the test: an sshd left holding the test's
        // output pipe would keep ctest waiting for ever.
        sshd_ = Process::spawn(
            {.argv = argv, .outputFile = (dir_ / "sshd.output").string(), .dieWithParent = true});
        sshdPid_ = sshd_->pid();
        if (waitForSshd(30s)) return;
        sshd_.reset();
        if (network_ == HostNetwork::OwnNetns) break; // port 22 in a fresh namespace: not a race
    }
    std::string log;
    if (std::filesystem::exists(dir_ / "sshd.log")) log = readFile(dir_ / "sshd.log");
    throw Error("build host sshd on {}:{} did not start; its log: {}", address_, port_, log);
}

bool BuildHost::waitForSshd(std::chrono::seconds timeout)
{
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (sshd_->waitUntil(std::chrono::steady_clock::now())) {
            sshd_.reset(); // exited (and reaped): its log says why
            return false;
        }
        if (sshBannerAt(address_, port_, std::chrono::steady_clock::now() + 2s)) {
            // sshd has exec'ed inside its namespaces by now: remember them for teardown.
            auto pid = std::to_string(sshdPid_);
            mountNs_ = holdNamespace(pid, "mnt", mountNsFd_);
            if (network_ == HostNetwork::OwnNetns) netNs_ = holdNamespace(pid, "net", netNsFd_);
            if (mountNs_.empty() || mountNs_ == nsOf("self", "mnt"))
                throw Error("build host sshd (pid {}) is not in a mount namespace of its own", pid);
            return true;
        }
        std::this_thread::sleep_for(20ms);
    }
    return false;
}

std::string BuildHost::storeUri() const
{
    if (port_ == 22) return "ssh://root@" + address_;
    return fmt::format("ssh://root@{}:{}", address_, port_);
}

std::string BuildHost::machinesLine(const std::string& systems, int maxJobs,
                                    const std::string& features) const
{
    return fmt::format("{} {} {} {} 1 {} - {}", storeUri(), systems, clientKey_.string(), maxJobs, features,
                       hostKeyBase64_);
}

std::vector<std::string> BuildHost::sshCommand(const std::string& command, int connectTimeoutSeconds) const
{
    return {"ssh",
            "-F",
            "/dev/null",
            "-T",
            "-p",
            std::to_string(port_),
            "-i",
            clientKey_.string(),
            "-o",
            "BatchMode=yes",
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "UserKnownHostsFile=" + knownHosts_.string(),
            "-o",
            "GlobalKnownHostsFile=/dev/null",
            "-o",
            "StrictHostKeyChecking=yes",
            "-o",
            fmt::format("ConnectTimeout={}", connectTimeoutSeconds),
            "-o",
            "LogLevel=ERROR",
            "root@" + address_,
            "--",
            command};
}

RunResult BuildHost::run(const std::string& command, std::string_view input,
                         std::chrono::milliseconds timeout) const
{
    return hydra::run({.argv = sshCommand(command)}, input, timeout);
}

std::string BuildHost::runChecked(const std::string& command, std::string_view input,
                                  std::chrono::milliseconds timeout) const
{
    auto r = run(command, input, timeout);
    if (!exitedOk(r.status))
        throw Error("on build host {}: '{}' {}: {}", storeUri(), command, statusToString(r.status), r.err);
    return r.out;
}

void BuildHost::cutLink()
{
    if (vethHost_.empty()) throw Error("build host {} has no link of its own to cut", storeUri());
    ipChecked({"link", "set", vethHost_, "down"});
}

void BuildHost::restoreLink()
{
    if (vethHost_.empty()) throw Error("build host {} has no link of its own to restore", storeUri());
    ipChecked({"link", "set", vethHost_, "up"});
}

void BuildHost::killNamespaceProcesses()
{
    auto ownMnt = nsOf("self", "mnt"), ownNet = nsOf("self", "net");
    auto mine = [&](const std::string& pid) {
        auto mnt = nsOf(pid, "mnt");
        if (!mountNs_.empty() && mountNs_ != ownMnt && mnt == mountNs_) return true;
        return !netNs_.empty() && netNs_ != ownNet && nsOf(pid, "net") == netNs_;
    };
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline) {
        bool found = false;
        for (auto& e : std::filesystem::directory_iterator("/proc")) {
            auto pid = e.path().filename().string();
            if (pid.find_first_not_of("0123456789") != std::string::npos || pid == "1") continue;
            if (std::stoi(pid) == ::getpid() || !mine(pid)) continue;
            found = true;
            ::kill(std::stoi(pid), SIGKILL);
        }
        if (!found) return;
        std::this_thread::sleep_for(20ms);
    }
}

void BuildHost::teardown()
{
    if (tornDown_) return;
    tornDown_ = true;
    killNamespaceProcesses();
    if (sshd_) sshd_->terminate();
    sshd_.reset();
    // Deleting one end of a veth pair deletes both; then the namespace goes.
    if (!vethHost_.empty()) ip({"link", "del", vethHost_});
    if (!netns_.empty()) ip({"netns", "del", netns_});
    // Only now may the kernel reuse the namespaces' ids: no scan above can mistake a stranger.
    mountNsFd_.close();
    netNsFd_.close();
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
}

} // namespace hydra::test

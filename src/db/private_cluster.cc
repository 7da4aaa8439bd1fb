#include "db/private_cluster.hh"

#include "db/connect.hh"
#include "db/conninfo.hh"
#include "util/error.hh"
#include "util/logging.hh"
#include "util/process.hh"

#include <pqxx/pqxx>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace fs = std::filesystem;

namespace hydra::db {

namespace {

constexpr std::string_view superuser = "hydra";
constexpr std::string_view portFileName = "hydra-port"; // written last: marks a finished init

using Clock = std::chrono::steady_clock;

bool isExecutable(const fs::path& p)
{
    return ::access(p.c_str(), X_OK) == 0 && fs::is_regular_file(p);
}

bool hasPgTools(const fs::path& dir)
{
    return isExecutable(dir / "initdb") && isExecutable(dir / "pg_ctl");
}

std::optional<fs::path> fromPath()
{
    const char* path = std::getenv("PATH");
    std::string_view rest = path ? path : "";
    while (!rest.empty()) {
        auto colon = rest.find(':');
        fs::path dir(rest.substr(0, colon));
        rest = colon == std::string_view::npos ? "" : rest.substr(colon + 1);
        std::error_code ec;
        if (dir.empty() || !isExecutable(dir / "initdb")) continue;
        // Debian links /usr/local/bin/initdb etc. to the versioned directory; use that one.
        fs::path real = fs::canonical(dir / "initdb", ec).parent_path();
        if (!ec && hasPgTools(real)) return real;
        if (hasPgTools(dir)) return dir;
    }
    return std::nullopt;
}

std::optional<fs::path> fromDebianDirs()
{
    std::optional<fs::path> best;
    double bestVersion = -1;
    std::error_code ec;
    for (auto& e : fs::directory_iterator("/usr/lib/postgresql", ec)) {
        const std::string name = e.path().filename().string();
        char* end = nullptr;
        double v = std::strtod(name.c_str(), &end);
        if (end == name.c_str() || !hasPgTools(e.path() / "bin")) continue;
        if (v > bestVersion) bestVersion = v, best = e.path() / "bin";
    }
    return best;
}

std::string quoteConfValue(std::string_view v)
{
    std::string out = "'";
    for (char c : v) {
        if (c == '\'' || c == '\\') out += c; // doubled quote; doubled backslash
        out += c;
    }
    return out + "'";
}

int pickFreePort()
{
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throwSysError("creating a socket to pick a PostgreSQL port");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    auto* sa = reinterpret_cast<sockaddr*>(&addr);
    if (::bind(fd, sa, len) != 0 || ::getsockname(fd, sa, &len) != 0) {
        ::close(fd);
        throwSysError("picking a free port for PostgreSQL");
    }
    ::close(fd);
    return ntohs(addr.sin_port);
}

// The last lines of the server log, so that a failed start explains itself.
std::string logTail(const std::string& file, size_t maxLines = 15)
{
    std::ifstream in(file);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) {
        lines.push_back(std::move(line));
        if (lines.size() > maxLines) lines.erase(lines.begin());
    }
    std::string out;
    for (auto& l : lines) out += "\n  " + l;
    return out.empty() ? " (empty)" : out;
}

// Reaps `pid` if it is (or becomes, via the subreaper) our child; gives up at the deadline.
void reapIfChild(pid_t pid, Clock::time_point deadline)
{
    for (;;) {
        int st = 0;
        pid_t r = ::waitpid(pid, &st, WNOHANG);
        if (r == pid || (r < 0 && errno != EINTR)) return;
        if (Clock::now() >= deadline) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

// Reaps `pid` if it is a zombie child of ours (a postmaster we adopted as subreaper and that
// died); a zombie would otherwise look alive to PostgreSQL's own stale-lock check.
void reapIfZombieChild(pid_t pid)
{
    std::ifstream in(fmt::format("/proc/{}/stat", pid));
    std::string stat;
    std::getline(in, stat);
    auto paren = stat.rfind(')');
    if (paren == std::string::npos || paren + 2 >= stat.size() || stat[paren + 2] != 'Z') return;
    int st = 0;
    ::waitpid(pid, &st, WNOHANG);
}

// Whether `pid` is a live process of the cluster in `dataDir` (its working directory): a pid
// file naming a dead or recycled pid is stale. `unknownIsAlive`: the answer when we may not look.
bool isServerProcess(pid_t pid, const std::string& dataDir, bool unknownIsAlive)
{
    std::error_code ec;
    fs::path cwd = fs::read_symlink(fs::path("/proc") / std::to_string(pid) / "cwd", ec);
    if (!ec) return cwd == fs::path(dataDir);
    if (ec == std::errc::permission_denied) return unknownIsAlive && (::kill(pid, 0) == 0 || errno == EPERM);
    return false;
}

// Whether the postmaster named in postmaster.pid is alive (reaping it first if it is our zombie).
bool postmasterAlive(pid_t pid, const std::string& dataDir)
{
    reapIfZombieChild(pid);
    return isServerProcess(pid, dataDir, true);
}

// Processes whose working directory is the data dir: backends outliving a killed postmaster.
std::vector<pid_t> serverProcesses(const std::string& dataDir)
{
    std::vector<pid_t> out;
    std::error_code ec;
    for (auto& e : fs::directory_iterator("/proc", ec)) {
        const std::string name = e.path().filename().string();
        if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
        auto pid = static_cast<pid_t>(std::stol(name));
        if (isServerProcess(pid, dataDir, false)) out.push_back(pid);
    }
    return out;
}

// An exclusive flock on the data directory: one process at a time runs initdb or pg_ctl start.
class DirLock {
public:
    DirLock(const std::string& dir, Clock::time_point deadline)
        : fd_(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC))
    {
        if (fd_ < 0) throwSysError(fmt::format("opening {}", dir));
        while (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
            if (errno != EWOULDBLOCK && errno != EINTR) throwSysError(fmt::format("locking {}", dir));
            if (Clock::now() >= deadline) {
                ::close(fd_);
                throw TimeoutError("another process holds the lock on {} (starting PostgreSQL?)", dir);
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
    }
    ~DirLock() { ::close(fd_); }
    DirLock(const DirLock&) = delete;
    DirLock& operator=(const DirLock&) = delete;

private:
    int fd_;
};

// Whether user `uid` (with groups `gids`) may search directory `st`.
bool canTraverse(const struct stat& st, uid_t uid, const std::vector<gid_t>& gids)
{
    if (st.st_uid == uid) return st.st_mode & S_IXUSR;
    if (std::find(gids.begin(), gids.end(), st.st_gid) != gids.end()) return st.st_mode & S_IXGRP;
    return st.st_mode & S_IXOTH;
}

} // namespace

std::string findPgBinDir()
{
    if (const char* env = std::getenv("HYDRA_PG_BINDIR"); env && *env) {
        if (!hasPgTools(env))
            throw Error("HYDRA_PG_BINDIR={} does not contain the PostgreSQL programs initdb and pg_ctl", env);
        return env;
    }
    if (auto dir = fromPath()) return dir->string();
    if (auto dir = fromDebianDirs()) return dir->string();
    throw Error("cannot find PostgreSQL's initdb and pg_ctl in $HYDRA_PG_BINDIR, $PATH or "
                "/usr/lib/postgresql/*/bin; install PostgreSQL (scripts/setup.sh) or set HYDRA_PG_BINDIR");
}

/// Whom initdb, pg_ctl and the server run as: ourselves, or (as root) the unprivileged user.
struct PrivateCluster::Identity {
    std::optional<uid_t> uid;
    std::optional<gid_t> gid;
    std::string name;
};

PrivateCluster::PrivateCluster(ClusterOptions opts) : opts_(std::move(opts))
{
    if (opts_.dataDir.empty()) throw Error("the private PostgreSQL cluster needs a data directory");
    dataDir_ = fs::weakly_canonical(fs::absolute(opts_.dataDir)).string();
    while (dataDir_.size() > 1 && dataDir_.back() == '/') dataDir_.pop_back();
    port_ = readPort();
}

std::string PrivateCluster::socketDir() const
{
    fs::path d(dataDir_);
    return (d.parent_path() / (d.filename().string() + "-socket")).string();
}

std::string PrivateCluster::logFile() const
{
    fs::path d(dataDir_);
    return (d.parent_path() / (d.filename().string() + ".log")).string();
}

std::optional<int> PrivateCluster::readPort() const
{
    std::ifstream in(fs::path(dataDir_) / portFileName);
    int port = 0;
    if (in >> port && port > 0 && port < 65536) return port;
    return std::nullopt;
}

std::optional<pid_t> PrivateCluster::postmasterPid() const
{
    std::ifstream in(fs::path(dataDir_) / "postmaster.pid");
    long pid = 0;
    if (in >> pid && pid > 0) return static_cast<pid_t>(pid);
    return std::nullopt;
}

PrivateCluster::Identity PrivateCluster::identity() const
{
    if (::geteuid() != 0) return {};
    struct passwd* pw = ::getpwnam(opts_.runAsUser.c_str());
    if (!pw)
        throw Error("cannot run the PostgreSQL cluster in {} as user '{}': no such user (PostgreSQL refuses "
                    "to run as root); run scripts/setup.sh, which creates it, or create it with "
                    "`useradd --system --user-group {}`",
                    dataDir_, opts_.runAsUser, opts_.runAsUser);
    if (pw->pw_uid == 0)
        throw Error("cannot run the PostgreSQL cluster in {} as user '{}': it is a root account", dataDir_,
                    opts_.runAsUser);
    return {pw->pw_uid, pw->pw_gid, opts_.runAsUser};
}

void PrivateCluster::prepareDirs(const Identity& id)
{
    // The server's socket is <socketDir>/.s.PGSQL.<port>; it must fit in sockaddr_un::sun_path.
    std::string sock = socketDir() + "/.s.PGSQL.65535";
    if (sock.size() >= sizeof(sockaddr_un::sun_path))
        throw Error(
            "the PostgreSQL socket path {} would be {} bytes, more than the {} a unix socket path may "
            "have; use a shorter data directory than {}",
            sock, sock.size(), sizeof(sockaddr_un::sun_path) - 1, dataDir_);
    fs::path parent = fs::path(dataDir_).parent_path();
    fs::create_directories(parent);
    for (const auto& [dir, mode] : {std::pair{dataDir_, 0700}, std::pair{socketDir(), 0750}}) {
        if (::mkdir(dir.c_str(), static_cast<mode_t>(mode)) != 0 && errno != EEXIST)
            throwSysError(fmt::format("creating {}", dir));
        if (!fs::is_directory(dir)) throw Error("{} exists but is not a directory", dir);
    }
    int fd = ::open(logFile().c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd < 0) throwSysError(fmt::format("creating the PostgreSQL log {}", logFile()));
    ::close(fd);
    if (!id.uid) return;
    for (const auto& p : {dataDir_, socketDir(), logFile()})
        if (::chown(p.c_str(), *id.uid, *id.gid) != 0)
            throwSysError(fmt::format("chown {} to {}", p, id.name));
    // Every directory above must be searchable by the unprivileged user, or initdb fails obscurely.
    int n = 64;
    std::vector<gid_t> gids(static_cast<size_t>(n));
    if (::getgrouplist(id.name.c_str(), *id.gid, gids.data(), &n) < 0) n = 0;
    gids.resize(static_cast<size_t>(n));
    gids.push_back(*id.gid);
    for (fs::path p = parent;; p = p.parent_path()) {
        struct stat st {};
        if (::stat(p.c_str(), &st) != 0) throwSysError(fmt::format("stat {}", p.string()));
        if (!canTraverse(st, *id.uid, gids))
            throw Error("user '{}' (which runs PostgreSQL) cannot enter directory {} on the way to {}; "
                        "make it searchable (chmod o+x {}) or choose another data directory",
                        id.name, p.string(), dataDir_, p.string());
        if (p == p.root_path() || p.parent_path() == p) break;
    }
}

void PrivateCluster::pgCtl(const Identity& id, std::vector<std::string> args, std::string_view what)
{
    ProcessOptions po;
    po.argv = std::move(args);
    po.uid = id.uid;
    po.gid = id.gid;
    po.cwd = dataDir_;
    po.unsetEnv = {"PGDATA", "PGPORT", "PGHOST", "PGUSER", "PGDATABASE", "PGOPTIONS"};
    try {
        runChecked(po, {}, opts_.startTimeout + std::chrono::seconds(10));
    } catch (const Error& e) {
        throw Error("{} the PostgreSQL cluster in {} failed: {}; last lines of {}:{}", what, dataDir_,
                    e.what(), logFile(), logTail(logFile()));
    }
}

void PrivateCluster::initdb(const Identity& id)
{
    fs::path dir(dataDir_);
    if (fs::exists(dir / "PG_VERSION"))
        throw Error("{} holds a PostgreSQL cluster whose set-up by hydra did not finish (no {} file); "
                    "remove the directory to start afresh, or point HYDRA_DBI at it",
                    dataDir_, portFileName);
    if (!fs::is_empty(dir))
        throw Error("{} is not empty and is not a PostgreSQL data directory; remove it or choose another",
                    dataDir_);
    std::string bin = findPgBinDir();
    log::info("creating the PostgreSQL cluster in {} (programs from {})", dataDir_, bin);
    std::vector<std::string> args = {bin + "/initdb",        "-D",           dataDir_, "-U",
                                     std::string(superuser), "--auth=trust", "-E",     "UTF8",
                                     "--locale=C.UTF-8"};
    if (opts_.unsafeFast) args.push_back("--no-sync");
    pgCtl(id, args, "initdb of");

    int port = opts_.port ? opts_.port : pickFreePort();
    std::ofstream conf(dir / "postgresql.conf", std::ios::app);
    conf << "\n# Set by hydra: reachable only through its own unix socket.\n"
         << "listen_addresses = ''\nport = " << port << "\n"
         << "unix_socket_directories = " << quoteConfValue(socketDir()) << "\n"
         << "max_connections = 300\n";
    if (opts_.unsafeFast)
        conf << "# Test cluster: speed over durability.\nfsync = off\nsynchronous_commit = off\n"
             << "full_page_writes = off\nshared_buffers = 16MB\n";
    conf.close();
    if (!conf) throw Error("cannot write {}", (dir / "postgresql.conf").string());

    fs::path tmp = dir / (std::string(portFileName) + ".tmp");
    std::ofstream(tmp) << port << "\n";
    fs::rename(tmp, dir / portFileName);
    port_ = port;
}

void PrivateCluster::clearStalePidFile()
{
    auto pid = postmasterPid();
    if (!pid || postmasterAlive(*pid, dataDir_)) return;
    log::warn("removing stale {}/postmaster.pid (process {} is not this cluster's server)", dataDir_, *pid);
    auto deadline = Clock::now() + opts_.startTimeout;
    // Backends of a killed postmaster exit on their own soon; the new one must not meet them.
    while (!serverProcesses(dataDir_).empty()) {
        if (Clock::now() >= deadline)
            throw TimeoutError("processes of the killed PostgreSQL server in {} did not exit", dataDir_);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    std::error_code ec;
    fs::remove(fs::path(dataDir_) / "postmaster.pid", ec);
    if (port_) fs::remove(fmt::format("{}/.s.PGSQL.{}.lock", socketDir(), *port_), ec);
}

void PrivateCluster::start(const Identity& id)
{
    clearStalePidFile();
    std::string bin = findPgBinDir();
    log::info("starting the PostgreSQL cluster in {} (log: {})", dataDir_, logFile());
    // pg_ctl leaves the postmaster orphaned; becoming its subreaper makes it our child, so we
    // can reap it when it stops instead of leaving a zombie to an init that may not reap.
    int wasSubreaper = 0;
    ::prctl(PR_GET_CHILD_SUBREAPER, &wasSubreaper);
    ::prctl(PR_SET_CHILD_SUBREAPER, 1UL);
    try {
        pgCtl(id,
              {bin + "/pg_ctl", "start", "-D", dataDir_, "-l", logFile(), "-w", "-s", "-t",
               std::to_string(opts_.startTimeout.count())},
              "starting");
    } catch (...) {
        ::prctl(PR_SET_CHILD_SUBREAPER, static_cast<unsigned long>(wasSubreaper));
        throw;
    }
    ::prctl(PR_SET_CHILD_SUBREAPER, static_cast<unsigned long>(wasSubreaper));
}

void PrivateCluster::ensureRunning()
{
    auto id = identity();
    prepareDirs(id);
    auto deadline = Clock::now() + opts_.startTimeout;
    {
        DirLock lock(dataDir_, deadline);
        if (!readPort()) initdb(id);
        port_ = readPort();
        if (!running()) {
            auto pid = postmasterPid();
            if (pid && postmasterAlive(*pid, dataDir_)) {
                // Another process is starting it, or it is recovering: wait for it.
                while (!running()) {
                    if (Clock::now() >= deadline)
                        throw TimeoutError("PostgreSQL (pid {}) in {} does not accept connections; see {}:{}",
                                           *pid, dataDir_, logFile(), logTail(logFile()));
                    std::this_thread::sleep_for(std::chrono::milliseconds(100));
                }
            } else {
                start(id);
            }
        }
    }
    createDatabase("hydra");
}

void PrivateCluster::stop()
{
    auto pid = postmasterPid();
    if (!pid) return;
    DirLock lock(dataDir_, Clock::now() + opts_.startTimeout);
    if (!postmasterAlive(*pid, dataDir_)) {
        clearStalePidFile();
        return;
    }
    auto id = identity();
    pgCtl(id,
          {findPgBinDir() + "/pg_ctl", "stop", "-D", dataDir_, "-m", "fast", "-w", "-s", "-t",
           std::to_string(opts_.startTimeout.count())},
          "stopping");
    reapIfChild(*pid, Clock::now() + std::chrono::seconds(10));
}

void PrivateCluster::restart()
{
    stop();
    ensureRunning();
}

bool PrivateCluster::running() const
{
    auto port = port_ ? port_ : readPort();
    if (!port) return false;
    try {
        pqxx::connection c(fmt::format("host={} port={} user={} dbname=postgres connect_timeout=5",
                                       quoteConninfoValue(socketDir()), *port, superuser));
        return c.is_open();
    } catch (const std::exception&) {
        return false;
    }
}

std::string PrivateCluster::conninfo(std::string_view dbname) const
{
    auto port = port_ ? port_ : readPort();
    if (!port)
        throw Error("the private PostgreSQL cluster in {} has not been created yet; run `hydra up`",
                    dataDir_);
    return fmt::format("host={} port={} user={} dbname={}", quoteConninfoValue(socketDir()), *port, superuser,
                       quoteConninfoValue(dbname));
}

void PrivateCluster::createDatabase(std::string_view name)
{
    std::string n(name);
    auto exists = [&] {
        auto c = connect(conninfo("postgres"));
        pqxx::nontransaction tx(*c);
        return !tx.exec("SELECT 1 FROM pg_database WHERE datname = " + tx.quote(n)).empty();
    };
    if (exists()) return;
    try {
        auto c = connect(conninfo("postgres"));
        pqxx::nontransaction tx(*c);
        tx.exec("CREATE DATABASE " + c->quote_name(n));
    } catch (const pqxx::sql_error& e) {
        // A concurrent CREATE DATABASE of the same name fails with 42P04 or a unique violation.
        if (!exists()) throw Error("creating database {} in {}: {}", n, dataDir_, e.what());
    }
}

} // namespace hydra::db

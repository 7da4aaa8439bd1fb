// Machines file parser and printer.
//
// Facts from Nix (src/libstore/machines.cc) and Hydra's queue runner (hydra-queue-runner.cc,
// state.hh, build-remote.cc), and where this implementation decides differently:
// - Columns are separated by spaces/tabs; `-` or a missing column means the default; `#` starts
//   a comment anywhere on a line. We cut the comment before splitting on `;`, so a `;` inside a
//   comment starts nothing (in Nix it would start a new machine).
// - `;` separates machines on one line and `@/path` includes a file in Nix. Hydra's own parser
//   (until 2024) split on newlines only and had no includes; since it switched to Nix's parser
//   (NixOS/hydra#1386) it honours both. We support both; includes need an absolute path (Nix
//   would resolve a relative one against the daemon's working directory), a missing included
//   file counts as empty (as in Nix), and only loadMachines reads them (parseMachines is pure).
// - Hydra silently skips lines with fewer than three columns and Nix defaults a missing systems
//   column to the local system; we reject a line without systems so a typo cannot lose a machine.
//   Columns after the eighth are ignored by both; we reject them for the same reason.
// - Hydra keys its machines by the store URI, so a later line for the same machine replaces the
//   earlier one (Nix's build hook would keep both). We do the same, in the earlier one's place,
//   comparing the parsed form: `host` and `ssh://host` are one machine.
// - Mandatory features count as supported features (both Nix and Hydra). A step for the
//   "builtin" platform may run on any machine, as in Nix (Hydra maps it to its own system).
// - The host key column must be valid base64 (Nix checks; Hydra decodes it) of one line of text;
//   a trailing newline, which `base64 key.pub` includes, is dropped from the decoded text.

#include "nix/machines.hh"

#include "util/error.hh"
#include "util/fd.hh"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <fcntl.h>
#include <fmt/format.h>
#include <map>
#include <sys/stat.h>

namespace hydra::nix {

namespace {

constexpr std::size_t maxColumns = 8;
constexpr int maxIncludeDepth = 8;

const std::string uriExpected =
    "expected a store URI ([ssh://][user@]host[:port], localhost or scheme://...)";
const std::string portExpected = "expected a port from 1 to 65535 in the store URI";
const std::string systemsExpected = "expected systems (comma-separated, e.g. x86_64-linux) in column 2";
const std::string maxJobsExpected = "expected max jobs (a whole number) in column 4";
const std::string speedExpected = "expected a speed factor (a number > 0) in column 5";
const std::string hostKeyExpected =
    "expected a base64-encoded public host key (one line of text) in column 8";

/// Where a line came from, for error messages.
struct Where {
    std::string_view file;
    std::size_t line;
};

/// The token as it may appear in a message: control bytes become \xNN.
std::string shown(std::string_view token)
{
    std::string out;
    for (char c : token) {
        auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f)
            out += fmt::format("\\x{:02x}", u);
        else
            out += c;
    }
    return out;
}

[[noreturn]] void fail(const Where& at, std::string_view expected, std::string_view token)
{
    throw Error("{}:{}: {}, got '{}'", at.file, at.line, expected, shown(token));
}

bool isControl(char c)
{
    auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
}

bool isSeparator(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

std::vector<std::string_view> splitColumns(std::string_view s)
{
    std::vector<std::string_view> out;
    std::size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && isSeparator(s[i])) ++i;
        auto start = i;
        while (i < s.size() && !isSeparator(s[i])) ++i;
        if (i > start) out.push_back(s.substr(start, i - start));
    }
    return out;
}

std::string_view trim(std::string_view s)
{
    while (!s.empty() && isSeparator(s.front())) s.remove_prefix(1);
    while (!s.empty() && isSeparator(s.back())) s.remove_suffix(1);
    return s;
}

/// A comma-separated list; empty elements are skipped (as Nix does), and so is `-` (so "-" is
/// the empty list and no item prints as the dash that would read back as "empty").
std::set<std::string> splitList(std::string_view s)
{
    std::set<std::string> out;
    while (!s.empty()) {
        auto comma = s.find(',');
        auto item = s.substr(0, comma);
        if (!item.empty() && item != "-") out.emplace(item);
        s = comma == std::string_view::npos ? std::string_view{} : s.substr(comma + 1);
    }
    return out;
}

bool isAsciiAlnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/// A user or host name that ssh cannot mistake for an option.
bool isName(std::string_view s)
{
    if (s.empty() || s.front() == '-' || s.front() == '.') return false;
    return std::all_of(s.begin(), s.end(),
                       [](char c) { return isAsciiAlnum(c) || c == '.' || c == '-' || c == '_'; });
}

/// An IPv6 address (without brackets), optionally with a %zone.
bool isIpv6(std::string_view s)
{
    auto zone = s.find('%');
    auto addr = s.substr(0, zone);
    if (zone != std::string_view::npos && !isName(s.substr(zone + 1))) return false;
    if (addr.find(':') == std::string_view::npos) return false;
    return std::all_of(addr.begin(), addr.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' ||
               c == '.';
    });
}

enum class AuthorityResult { Ok, Bad, BadPort };

AuthorityResult parsePort(std::string_view s, Machine& m)
{
    unsigned value = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (s.empty() || ec != std::errc{} || end != s.data() + s.size() || value == 0 || value > 65535)
        return AuthorityResult::BadPort;
    m.port = static_cast<std::uint16_t>(value);
    return AuthorityResult::Ok;
}

/// `[user@]host[:port]` with host a name or `[ipv6]`.
AuthorityResult parseAuthority(std::string_view a, Machine& m)
{
    if (auto at = a.find('@'); at != std::string_view::npos) {
        m.user = a.substr(0, at);
        if (!isName(m.user)) return AuthorityResult::Bad;
        a.remove_prefix(at + 1);
    }
    std::string_view rest;
    if (!a.empty() && a.front() == '[') {
        auto close = a.find(']');
        if (close == std::string_view::npos || !isIpv6(a.substr(1, close - 1))) return AuthorityResult::Bad;
        m.host = a.substr(1, close - 1);
        rest = a.substr(close + 1);
    } else {
        auto colon = a.find(':');
        m.host = a.substr(0, colon);
        if (!isName(m.host)) return AuthorityResult::Bad;
        rest = colon == std::string_view::npos ? std::string_view{} : a.substr(colon);
    }
    if (rest.empty()) return AuthorityResult::Ok;
    if (rest.front() != ':') return AuthorityResult::Bad;
    return parsePort(rest.substr(1), m);
}

/// A store URI that names some other kind of store: `scheme://...`, a path, or a local store word.
bool isOtherStoreUri(std::string_view uri)
{
    if (auto sep = uri.find("://"); sep != std::string_view::npos) {
        auto scheme = uri.substr(0, sep);
        return !scheme.empty() && scheme.front() >= 'a' && scheme.front() <= 'z' &&
               std::all_of(scheme.begin(), scheme.end(),
                           [](char c) { return isAsciiAlnum(c) || c == '+' || c == '-' || c == '.'; }) &&
               uri.size() > sep + 3;
    }
    if (uri.find('/') != std::string_view::npos || uri.starts_with('?')) return true;
    for (std::string_view word : {"auto", "daemon", "local"})
        if (uri == word || (uri.starts_with(word) && uri[word.size()] == '?')) return true;
    return false;
}

void parseStoreUri(std::string_view uri, Machine& m, const Where& at)
{
    m.storeUri = uri;
    if (uri == "localhost" || uri == "ssh://localhost" || uri == "ssh-ng://localhost") {
        m.kind = MachineKind::Localhost;
        return;
    }
    bool ssh = uri.starts_with("ssh://");
    if (!ssh && isOtherStoreUri(uri)) {
        m.kind = MachineKind::Other;
        return;
    }
    if (!ssh && uri.find("://") != std::string_view::npos) fail(at, uriExpected, uri);
    m.kind = MachineKind::Ssh;
    switch (parseAuthority(ssh ? uri.substr(6) : uri, m)) {
    case AuthorityResult::Ok: return;
    case AuthorityResult::Bad: fail(at, uriExpected, uri);
    case AuthorityResult::BadPort: fail(at, portExpected, uri);
    }
}

unsigned parseMaxJobs(std::string_view s, const Where& at)
{
    if (s == "-") return 1;
    unsigned value = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (ec != std::errc{} || end != s.data() + s.size()) fail(at, maxJobsExpected, s);
    return value;
}

double parseSpeedFactor(std::string_view s, const Where& at)
{
    if (s == "-") return 1;
    double value = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (ec != std::errc{} || end != s.data() + s.size() || !std::isfinite(value) || !(value > 0))
        fail(at, speedExpected, s);
    return value;
}

int base64Digit(char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

/// Standard base64; padding is optional but must be right when present.
std::optional<std::string> base64Decode(std::string_view s)
{
    auto digits = s.substr(0, s.find('='));
    auto padding = s.size() - digits.size();
    if (padding > 2 || digits.size() % 4 == 1) return std::nullopt;
    if (padding > 0 && (s.size() % 4 != 0 || s.substr(digits.size()) != std::string(padding, '=')))
        return std::nullopt;
    std::string out;
    unsigned acc = 0;
    int bits = 0;
    for (char c : digits) {
        int d = base64Digit(c);
        if (d < 0) return std::nullopt;
        acc = (acc << 6 | static_cast<unsigned>(d)) & 0xffffu;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<char>((acc >> bits) & 0xffu));
        }
    }
    return out;
}

void parseHostKey(std::string_view s, Machine& m, const Where& at)
{
    if (s == "-") return;
    auto text = base64Decode(s);
    if (!text) fail(at, hostKeyExpected, s);
    if (text->ends_with('\n')) text->pop_back();
    if (text->ends_with('\r')) text->pop_back();
    if (trim(*text).empty() || std::any_of(text->begin(), text->end(), isControl))
        fail(at, hostKeyExpected, s);
    m.publicHostKey = s;
    m.publicHostKeyText = std::move(*text);
}

Machine parseMachineLine(const std::vector<std::string_view>& cols, const Where& at)
{
    for (auto col : cols)
        if (std::any_of(col.begin(), col.end(), isControl)) fail(at, "expected printable text", col);
    if (cols.size() > maxColumns) fail(at, "expected at most 8 columns", cols[maxColumns]);
    Machine m;
    if (cols[0] == "-") fail(at, uriExpected, cols[0]);
    parseStoreUri(cols[0], m, at);
    if (cols.size() < 2) throw Error("{}:{}: {}, got end of line", at.file, at.line, systemsExpected);
    m.systems = splitList(cols[1]);
    if (m.systems.empty()) fail(at, systemsExpected, cols[1]);
    auto column = [&](std::size_t i) { return i < cols.size() ? cols[i] : std::string_view("-"); };
    if (column(2) != "-") m.sshKey = column(2);
    m.maxJobs = parseMaxJobs(column(3), at);
    m.speedFactor = parseSpeedFactor(column(4), at);
    m.mandatoryFeatures = splitList(column(6));
    m.supportedFeatures = splitList(column(5));
    m.supportedFeatures.insert(m.mandatoryFeatures.begin(), m.mandatoryFeatures.end());
    parseHostKey(column(7), m, at);
    return m;
}

/// What makes two lines the same machine.
std::string identity(const Machine& m)
{
    switch (m.kind) {
    case MachineKind::Localhost: return "localhost";
    case MachineKind::Ssh: return fmt::format("ssh://{}@[{}]:{}", m.user, m.host, m.port);
    case MachineKind::Other: break;
    }
    return m.storeUri;
}

/// Collects machines from a text and the files it includes.
class Parser {
public:
    Parser(const MachinesIncludeReader& readInclude, std::vector<Machine>& out)
        : readInclude_(readInclude), out_(out)
    {}

    void parseText(std::string_view text, std::string_view file, int depth)
    {
        std::size_t lineNr = 0;
        while (!text.empty() || lineNr == 0) {
            auto nl = text.find('\n');
            auto line = text.substr(0, nl);
            text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
            line = line.substr(0, line.find('#'));
            Where at{file, ++lineNr};
            while (true) {
                auto semi = line.find(';');
                parseEntry(trim(line.substr(0, semi)), at, depth);
                if (semi == std::string_view::npos) break;
                line.remove_prefix(semi + 1);
            }
        }
    }

private:
    void parseEntry(std::string_view entry, const Where& at, int depth)
    {
        if (entry.empty()) return;
        if (entry.front() == '@') return include(entry, at, depth);
        add(parseMachineLine(splitColumns(entry), at));
    }

    void include(std::string_view entry, const Where& at, int depth)
    {
        auto path = trim(entry.substr(1));
        if (!readInclude_)
            fail(at, "expected a machine (includes work only in machines files read from disk)", entry);
        if (!path.starts_with('/') || splitColumns(path).size() != 1)
            fail(at, "expected an absolute path after '@'", entry);
        if (std::any_of(path.begin(), path.end(), isControl)) fail(at, "expected printable text", path);
        if (depth >= maxIncludeDepth)
            fail(at, fmt::format("expected includes nested at most {} deep", maxIncludeDepth), entry);
        std::string file(path);
        if (auto text = readInclude_(file)) parseText(*text, file, depth + 1);
    }

    /// Appends `m`, or replaces the earlier line for the same machine in its place.
    void add(Machine m)
    {
        auto [it, added] = index_.try_emplace(identity(m), out_.size());
        if (added)
            out_.push_back(std::move(m));
        else
            out_[it->second] = std::move(m);
    }

    const MachinesIncludeReader& readInclude_;
    std::vector<Machine>& out_;
    std::map<std::string, std::size_t> index_; // identity -> position in out_
};

std::string joinOrDash(const std::set<std::string>& items)
{
    std::string out;
    for (const auto& item : items) out += (out.empty() ? "" : ",") + item;
    return out.empty() ? "-" : out;
}

/// The file's text, or nullopt if it does not exist.
std::optional<std::string> readMachinesFile(const std::string& path)
{
    AutoFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
        if (errno == ENOENT) return std::nullopt;
        throwSysError(fmt::format("cannot read machines file '{}'", path));
    }
    return readAll(fd.get(), std::chrono::steady_clock::now() + std::chrono::seconds(30),
                   fmt::format("machines file '{}'", path));
}

} // namespace

bool Machine::supports(const std::string& system, const std::set<std::string>& requiredFeatures,
                       bool preferLocalBuild) const
{
    if (system != "builtin" && !systems.contains(system)) return false;
    for (const auto& f : requiredFeatures)
        if (!supportedFeatures.contains(f) && !mandatoryFeatures.contains(f)) return false;
    for (const auto& f : mandatoryFeatures)
        if (!requiredFeatures.contains(f) && !(f == "local" && preferLocalBuild)) return false;
    return true;
}

std::string Machine::sshDestination() const
{
    return user.empty() ? host : user + "@" + host;
}

std::string Machine::knownHostsLine() const
{
    if (port == 0 || port == 22) return fmt::format("{} {}", host, publicHostKeyText);
    return fmt::format("[{}]:{} {}", host, port, publicHostKeyText);
}

std::vector<Machine> parseMachines(std::string_view text, std::string_view fileName,
                                   const MachinesIncludeReader& readInclude)
{
    std::vector<Machine> out;
    Parser(readInclude, out).parseText(text, fileName, 0);
    return out;
}

std::string printMachines(const std::vector<Machine>& machines)
{
    std::string out;
    for (const auto& m : machines) {
        std::set<std::string> optional;
        std::set_difference(m.supportedFeatures.begin(), m.supportedFeatures.end(),
                            m.mandatoryFeatures.begin(), m.mandatoryFeatures.end(),
                            std::inserter(optional, optional.end()));
        out += fmt::format("{} {} {} {} {} {} {} {}\n", m.storeUri, joinOrDash(m.systems),
                           m.sshKey.empty() ? "-" : m.sshKey, m.maxJobs, m.speedFactor, joinOrDash(optional),
                           joinOrDash(m.mandatoryFeatures), m.publicHostKey.empty() ? "-" : m.publicHostKey);
    }
    return out;
}

Machine localhostMachine(const std::string& thisSystem, unsigned maxJobs,
                         const std::set<std::string>& systemFeatures)
{
    Machine m;
    m.storeUri = "localhost";
    m.kind = MachineKind::Localhost;
    m.systems = {thisSystem};
    if (thisSystem == "x86_64-linux") m.systems.insert("i686-linux");
    m.maxJobs = maxJobs;
    m.supportedFeatures = systemFeatures;
    return m;
}

std::vector<std::string> machinesFilePaths(const std::optional<std::string>& nixRemoteSystems,
                                           const std::string& defaultFile)
{
    std::vector<std::string> out;
    if (!nixRemoteSystems) {
        struct stat st {};
        if (::stat(defaultFile.c_str(), &st) == 0) out.push_back(defaultFile);
        return out;
    }
    std::string_view rest = *nixRemoteSystems;
    while (!rest.empty()) {
        auto colon = rest.find(':');
        if (colon != 0) out.emplace_back(rest.substr(0, colon));
        rest = colon == std::string_view::npos ? std::string_view{} : rest.substr(colon + 1);
    }
    return out;
}

std::vector<std::string> machinesFilePaths()
{
    const char* env = std::getenv("NIX_REMOTE_SYSTEMS");
    return machinesFilePaths(env ? std::optional<std::string>(env) : std::nullopt);
}

std::vector<Machine> loadMachines(const std::vector<std::string>& files)
{
    std::vector<Machine> out;
    MachinesIncludeReader reader = readMachinesFile;
    Parser parser(reader, out);
    for (const auto& file : files)
        if (auto text = readMachinesFile(file)) parser.parseText(*text, file, 0);
    return out;
}

std::vector<Machine> loadMachines()
{
    return loadMachines(machinesFilePaths());
}

} // namespace hydra::nix

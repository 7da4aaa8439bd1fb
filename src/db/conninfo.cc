#include "db/conninfo.hh"

#include "db/connect.hh"
#include "util/error.hh"

#include <algorithm>
#include <array>
#include <cctype>
#include <optional>
#include <vector>

namespace hydra::db {

namespace {

constexpr std::string_view expected =
    "expected a DBI data source 'dbi:Pg:dbname=hydra;host=...;port=...;user=...;password=...', "
    "a libpq URL 'postgresql://...', or a libpq conninfo 'dbname=hydra host=...'";

// Connection keywords libpq (up to PostgreSQL 16) accepts; a typo should fail here, by name.
constexpr std::array<std::string_view, 44> libpqKeys = {"host",
                                                        "hostaddr",
                                                        "port",
                                                        "dbname",
                                                        "user",
                                                        "password",
                                                        "passfile",
                                                        "require_auth",
                                                        "channel_binding",
                                                        "connect_timeout",
                                                        "client_encoding",
                                                        "options",
                                                        "application_name",
                                                        "fallback_application_name",
                                                        "keepalives",
                                                        "keepalives_idle",
                                                        "keepalives_interval",
                                                        "keepalives_count",
                                                        "tcp_user_timeout",
                                                        "replication",
                                                        "gssencmode",
                                                        "sslmode",
                                                        "requiressl",
                                                        "sslcompression",
                                                        "sslcert",
                                                        "sslkey",
                                                        "sslpassword",
                                                        "sslcertmode",
                                                        "sslrootcert",
                                                        "sslcrl",
                                                        "sslcrldir",
                                                        "sslsni",
                                                        "requirepeer",
                                                        "ssl_min_protocol_version",
                                                        "ssl_max_protocol_version",
                                                        "krbsrvname",
                                                        "gsslib",
                                                        "gssdelegation",
                                                        "service",
                                                        "target_session_attrs",
                                                        "load_balance_hosts",
                                                        "sslnegotiation",
                                                        "scram_client_key",
                                                        "scram_server_key"};

bool knownKey(std::string_view key)
{
    return std::find(libpqKeys.begin(), libpqKeys.end(), key) != libpqKeys.end();
}

std::string lower(std::string_view s)
{
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::string_view trim(std::string_view s)
{
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
}

bool startsWithNoCase(std::string_view s, std::string_view prefix)
{
    return s.size() >= prefix.size() && lower(s.substr(0, prefix.size())) == prefix;
}

// The input as it may appear in an error message: DBI passwords hidden.
std::string redactDbi(std::string_view dbi)
{
    std::string out;
    size_t pos = 0;
    while (pos <= dbi.size()) {
        size_t end = std::min(dbi.find(';', pos), dbi.size());
        std::string_view part = dbi.substr(pos, end - pos);
        auto eq = part.find('=');
        if (eq != std::string_view::npos && lower(trim(part.substr(0, eq))) == "password")
            out += std::string(part.substr(0, eq + 1)) + "***";
        else
            out += part;
        if (end < dbi.size()) out += ';';
        pos = end + 1;
    }
    return out;
}

[[noreturn]] void fail(std::string_view input, std::string_view reason)
{
    std::string shown = startsWithNoCase(input, "dbi:") ? redactDbi(input) : redactConninfo(input);
    throw Error("'{}' is not a PostgreSQL connection string: {}; {}", shown, reason, expected);
}

// Undoes libpq quoting of one value: 'a\'b' -> a'b. Unquoted values are taken as they are.
std::optional<std::string> unquote(std::string_view v)
{
    if (v.empty() || v.front() != '\'') return std::string(v);
    std::string out;
    for (size_t i = 1; i < v.size(); ++i) {
        if (v[i] == '\\' && i + 1 < v.size())
            out += v[++i];
        else if (v[i] == '\'')
            return i + 1 == v.size() ? std::optional(out) : std::nullopt;
        else
            out += v[i];
    }
    return std::nullopt;
}

std::string fromDbi(std::string_view input, std::string_view body)
{
    std::string out;
    size_t pos = 0;
    while (pos <= body.size()) {
        size_t end = std::min(body.find(';', pos), body.size());
        std::string_view part = trim(body.substr(pos, end - pos));
        pos = end + 1;
        if (part.empty()) continue;
        auto eq = part.find('=');
        if (eq == std::string_view::npos)
            fail(input, fmt::format("'{}' has no '=' (DBI attributes are key=value, separated by ';')",
                                    part.substr(0, part.find_first_of(" \t"))));
        std::string key = lower(trim(part.substr(0, eq)));
        if (key == "database" || key == "db") key = "dbname";
        if (!knownKey(key)) fail(input, fmt::format("unknown connection parameter '{}'", key));
        auto value = unquote(trim(part.substr(eq + 1)));
        if (!value) fail(input, fmt::format("unterminated quote in the value of '{}'", key));
        out += fmt::format("{}{}={}", out.empty() ? "" : " ", key, quoteConninfoValue(*value));
    }
    if (out.empty()) fail(input, "it names no connection parameters");
    return out;
}

// Checks the syntax of a libpq key=value conninfo (values plain or single-quoted).
void checkConninfo(std::string_view input)
{
    size_t i = 0, n = input.size();
    auto skipSpace = [&] {
        while (i < n && std::isspace(static_cast<unsigned char>(input[i]))) ++i;
    };
    for (skipSpace(); i < n; skipSpace()) {
        size_t k = i;
        while (i < n && (std::isalnum(static_cast<unsigned char>(input[i])) || input[i] == '_')) ++i;
        std::string key(input.substr(k, i - k));
        skipSpace();
        if (key.empty() || i >= n || input[i] != '=') {
            auto word = input.substr(k, input.find_first_of(" \t\n", k) - k);
            fail(input, fmt::format("'{}' is not of the form key=value", word));
        }
        if (!knownKey(key)) fail(input, fmt::format("unknown connection parameter '{}'", key));
        ++i;
        skipSpace();
        if (i < n && input[i] == '\'') {
            for (++i; i < n && input[i] != '\''; ++i)
                if (input[i] == '\\') ++i;
            if (i >= n) fail(input, fmt::format("unterminated quote in the value of '{}'", key));
            ++i;
        } else {
            while (i < n && !std::isspace(static_cast<unsigned char>(input[i])))
                i += input[i] == '\\' ? 2u : 1u;
        }
    }
}

} // namespace

std::string quoteConninfoValue(std::string_view value)
{
    std::string out = "'";
    for (char c : value) {
        if (c == '\\' || c == '\'') out += '\\';
        out += c;
    }
    return out + "'";
}

std::string conninfoFromDbi(std::string_view dbi)
{
    std::string_view s = trim(dbi);
    if (s.empty()) fail(dbi, "it is empty");
    if (startsWithNoCase(s, "postgresql://") || startsWithNoCase(s, "postgres://")) return std::string(s);
    if (startsWithNoCase(s, "dbi:")) {
        auto colon = s.find(':', 4);
        std::string_view driver = s.substr(4, colon == std::string_view::npos ? s.npos : colon - 4);
        if (colon == std::string_view::npos || lower(driver) != "pg")
            fail(dbi, fmt::format("DBI driver '{}' is not supported, only 'Pg' (PostgreSQL)", driver));
        return fromDbi(dbi, s.substr(colon + 1));
    }
    checkConninfo(s);
    return std::string(s);
}

} // namespace hydra::db

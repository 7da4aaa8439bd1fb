#include "db/connect.hh"

#include "util/error.hh"
#include "util/strings.hh"

#include <regex>

namespace hydra::db {

std::string redactConninfo(std::string_view conninfo)
{
    static const std::regex keyValue(R"(password\s*=\s*('(\\.|[^'])*'|\S+))", std::regex::icase);
    static const std::regex url(R"((postgres(ql)?://[^:/@]*):[^@/]*@)", std::regex::icase);
    std::string s = std::regex_replace(std::string(conninfo), keyValue, "password=***");
    return std::regex_replace(s, url, "$1:***@");
}

std::string withConnectTimeout(std::string_view conninfo)
{
    std::string s(conninfo);
    if (s.find("connect_timeout") != std::string::npos) return s;
    bool isUrl = s.starts_with("postgres://") || s.starts_with("postgresql://");
    if (isUrl) return s + (s.find('?') == std::string::npos ? "?" : "&") + "connect_timeout=10";
    return s + (s.empty() ? "" : " ") + "connect_timeout=10";
}

std::unique_ptr<pqxx::connection> connect(const std::string& conninfo)
{
    try {
        return std::make_unique<pqxx::connection>(withConnectTimeout(conninfo));
    } catch (const pqxx::broken_connection& e) {
        throw Error("cannot connect to the database ({}): {}", redactConninfo(conninfo), oneLine(e.what()));
    }
}

} // namespace hydra::db

#include "util/strings.hh"

namespace hydra {

std::string oneLine(std::string_view s)
{
    std::string out;
    for (char ch : s) {
        if (ch == '\n' || ch == '\t' || ch == '\r') ch = ' ';
        if (ch == ' ' && (out.empty() || out.back() == ' ')) continue;
        out += ch;
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out;
}

std::string_view trim(std::string_view s)
{
    constexpr std::string_view space = " \t\r\n\f\v";
    auto begin = s.find_first_not_of(space);
    if (begin == std::string_view::npos) return {};
    return s.substr(begin, s.find_last_not_of(space) - begin + 1);
}

} // namespace hydra

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

} // namespace hydra

// Printer for .drv files, in the exact layout Nix writes (no whitespace, sorted maps).

#include "nix/derivation.hh"

namespace hydra::nix {

namespace {

/// Appends `s` quoted, with the five escapes Nix uses; every other byte is written as is.
void printString(std::string& out, std::string_view s)
{
    out.push_back('"');
    for (char c : s) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default: out.push_back(c);
        }
    }
    out.push_back('"');
}

/// Appends "[a,b,...]" for any range of strings.
template <typename Range> void printStrings(std::string& out, const Range& strings)
{
    out.push_back('[');
    bool first = true;
    for (const auto& s : strings) {
        if (!first) out.push_back(',');
        first = false;
        printString(out, s);
    }
    out.push_back(']');
}

/// Appends "[f(x),f(y),...]" over a map, separating entries with commas.
template <typename Map, typename F> void printMap(std::string& out, const Map& map, F&& entry)
{
    out.push_back('[');
    bool first = true;
    for (const auto& [k, v] : map) {
        if (!first) out.push_back(',');
        first = false;
        out.push_back('(');
        printString(out, k);
        out.push_back(',');
        entry(k, v);
        out.push_back(')');
    }
    out.push_back(']');
}

} // namespace

std::string printDerivation(const Derivation& d)
{
    std::string out;
    out.reserve(4096);
    out += "Derive(";
    printMap(out, d.outputs, [&](const std::string&, const DerivationOutput& o) {
        printString(out, o.path);
        out.push_back(',');
        printString(out, o.hashAlgo);
        out.push_back(',');
        printString(out, o.hash);
    });
    out.push_back(',');
    printMap(out, d.inputDrvs,
             [&](const std::string&, const std::set<std::string>& names) { printStrings(out, names); });
    out.push_back(',');
    printStrings(out, d.inputSrcs);
    out.push_back(',');
    printString(out, d.platform);
    out.push_back(',');
    printString(out, d.builder);
    out.push_back(',');
    printStrings(out, d.args);
    out.push_back(',');
    printMap(out, d.env, [&](const std::string&, const std::string& v) { printString(out, v); });
    out.push_back(')');
    return out;
}

} // namespace hydra::nix

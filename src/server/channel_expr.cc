#include "server/channel_expr.hh"

#include "nix/expr_literal.hh"
#include "util/error.hh"

#include <array>
#include <bzlib.h>
#include <cstring>
#include <map>
#include <set>

namespace hydra::server {

namespace {

using nix::nixStringLiteral;

// `a.b` as the quoted attribute path "a"."b".
std::string attrPath(std::string_view dotted)
{
    std::string out;
    size_t start = 0;
    while (true) {
        auto dot = dotted.find('.', start);
        out += (out.empty() ? "" : ".") + nixStringLiteral(dotted.substr(start, dot - start));
        if (dot == std::string_view::npos) return out;
        start = dot + 1;
    }
}

// Every proper prefix of a dotted job name: the attribute sets nix-env must look into.
void addParents(std::string_view job, std::set<std::string>& parents)
{
    for (auto dot = job.find('.'); dot != std::string_view::npos; dot = job.find('.', dot + 1))
        parents.insert(std::string(job.substr(0, dot)));
}

void appendBuild(std::string& out, const db::web::ChannelBuild& b)
{
    out += "    # build " + std::to_string(b.id) + "\n    " + attrPath(b.job) + " = asDerivation {\n";
    out += "      name = " + nixStringLiteral(b.releaseName.value_or(b.nixName)) + ";\n";
    out += "      system = " + nixStringLiteral(b.system) + ";\n      meta = {";
    if (b.description) out += " description = " + nixStringLiteral(*b.description) + ";";
    if (b.license) out += " license = " + nixStringLiteral(*b.license) + ";";
    if (b.maintainers) out += " maintainers = " + nixStringLiteral(*b.maintainers) + ";";
    out += " };\n    } {";
    for (const auto& [name, path] : b.outputs)
        out += " " + nixStringLiteral(name) + " = " + nixStringLiteral(path) + ";";
    out += " };\n";
}

// The ustar header of one entry (GNU tar and libarchive read it).
std::string tarHeader(const std::string& name, size_t size, char type)
{
    std::array<char, 512> h{};
    auto put = [&](size_t at, size_t width, const std::string& s) {
        std::memcpy(&h[at], s.data(), std::min(width, s.size()));
    };
    auto octal = [](uint64_t v, int width) {
        std::string s(static_cast<size_t>(width - 1), '0');
        for (int i = width - 2; i >= 0 && v; --i, v >>= 3)
            s[static_cast<size_t>(i)] = static_cast<char>('0' + (v & 7));
        return s;
    };
    put(0, 100, name);
    put(100, 8, octal(type == '5' ? 0755 : 0644, 8));
    put(108, 8, octal(0, 8));
    put(116, 8, octal(0, 8));
    put(124, 12, octal(size, 12));
    put(136, 12, octal(1, 12)); // a fixed time: the same builds give the same tarball
    h[156] = type;
    put(257, 6, std::string("ustar\0", 6));
    put(263, 2, "00");
    std::memset(&h[148], ' ', 8);
    unsigned sum = 0;
    for (char c : h) sum += static_cast<unsigned char>(c);
    put(148, 7, octal(sum, 7));
    return {h.begin(), h.end()};
}

void appendTarFile(std::string& tar, const std::string& name, std::string_view content)
{
    tar += tarHeader(name, content.size(), '0');
    tar += content;
    tar.append((512 - content.size() % 512) % 512, '\0');
}

} // namespace

std::string channelExpression(const std::vector<db::web::ChannelBuild>& builds)
{
    std::map<std::string, std::vector<const db::web::ChannelBuild*>> bySystem;
    for (const auto& b : builds) bySystem[b.system].push_back(&b);
    // Each output is an attribute set nix-env takes for a derivation: its outPath is a path the
    // binary cache has, so installing it substitutes instead of building.
    std::string out = "{ system ? builtins.currentSystem }:\n\nlet\n"
                      "  asDerivation = attrs: outputs:\n    let\n"
                      "      names = builtins.attrNames outputs;\n"
                      "      one = name: { inherit name; value = all // { outputName = name; "
                      "outPath = builtins.storePath (builtins.getAttr name outputs); }; };\n"
                      "      byName = builtins.listToAttrs (map one names);\n"
                      "      all = attrs // byName // { type = \"derivation\"; outputs = names; };\n"
                      "      first = if outputs ? out then \"out\" else builtins.head names;\n"
                      "    in builtins.getAttr first byName;\n\n"
                      "  bySystem = {\n";
    for (const auto& [system, list] : bySystem) {
        out += "  " + nixStringLiteral(system) + " = {\n";
        std::set<std::string> parents;
        for (const auto* b : list) {
            appendBuild(out, *b);
            addParents(b->job, parents);
        }
        for (const auto& p : parents) out += "    " + attrPath(p) + ".recurseForDerivations = true;\n";
        out += "  };\n";
    }
    out += "  };\n\nin bySystem.${system} or { }\n";
    return out;
}

std::string channelTarball(std::string_view channelName, std::string_view expression)
{
    std::string tar = tarHeader("channel/", 0, '5');
    appendTarFile(tar, "channel/channel-name", channelName);
    appendTarFile(tar, "channel/default.nix", expression);
    tar.append(1024, '\0');
    // bzip2's bound: the input plus 1% and 600 bytes.
    std::string out(tar.size() + tar.size() / 100 + 601, '\0');
    auto len = static_cast<unsigned>(out.size());
    if (BZ2_bzBuffToBuffCompress(out.data(), &len, tar.data(), static_cast<unsigned>(tar.size()), 9, 0, 0) !=
        BZ_OK)
        throw Error("cannot compress the channel tarball");
    out.resize(len);
    return out;
}

} // namespace hydra::server

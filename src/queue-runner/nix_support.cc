#include "queue-runner/nix_support.hh"

#include "nix/hash.hh"
#include "util/logging.hh"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <system_error>

namespace fs = std::filesystem;

namespace hydra::qr {

namespace {

// nix-support files are a few lines; anything larger is read only this far.
constexpr size_t maxSupportFileBytes = size_t{16} << 20;

bool isSpace(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

bool allOf(std::string_view s, std::string_view extra)
{
    return std::all_of(s.begin(), s.end(), [&](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               extra.find(c) != std::string_view::npos;
    });
}

std::string_view trim(std::string_view s)
{
    while (!s.empty() && isSpace(s.front())) s.remove_prefix(1);
    while (!s.empty() && isSpace(s.back())) s.remove_suffix(1);
    return s;
}

/// Cuts the leading run of characters for which `keep` holds off `s`.
template <typename Pred> std::string_view takeWhile(std::string_view& s, Pred keep)
{
    size_t n = 0;
    while (n < s.size() && keep(s[n])) ++n;
    auto head = s.substr(0, n);
    s.remove_prefix(n);
    return head;
}

/// Skips at least one space; false when there is none.
bool skipSpaces(std::string_view& s)
{
    return !takeWhile(s, isSpace).empty();
}

std::vector<std::string_view> splitLines(std::string_view text)
{
    std::vector<std::string_view> lines;
    while (!text.empty()) {
        auto nl = text.find('\n');
        lines.push_back(text.substr(0, nl));
        if (nl == std::string_view::npos) break;
        text.remove_prefix(nl + 1);
    }
    return lines;
}

std::string readCapped(const fs::path& file)
{
    std::ifstream in(file, std::ios::binary);
    std::string text(maxSupportFileBytes, '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<size_t>(in.gcount()));
    if (!in.eof())
        log::warn("{}: larger than {} bytes; the rest is ignored", file.string(), maxSupportFileBytes);
    return text;
}

/// The type of `rel` inside `root` as it would appear in root's NAR: not_found when missing
/// or when reached through a symlink (NARs do not follow them).
fs::file_type memberType(const fs::path& root, const fs::path& rel)
{
    std::error_code ec;
    fs::path cur = root;
    for (auto it = rel.begin(); it != rel.end(); ++it) {
        if (fs::symlink_status(cur, ec).type() == fs::file_type::symlink) return fs::file_type::not_found;
        cur /= *it;
    }
    auto t = fs::symlink_status(cur, ec).type();
    return ec ? fs::file_type::not_found : t;
}

bool isRegularMember(const fs::path& output, const char* rel)
{
    return memberType(output, rel) == fs::file_type::regular;
}

nix::Hash hashFile(const fs::path& file, uint64_t& size)
{
    std::ifstream in(file, std::ios::binary);
    nix::Sha256Hasher hasher;
    std::string buf(size_t{64} << 10, '\0');
    while (in) {
        in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
        hasher.update(std::string_view(buf.data(), static_cast<size_t>(in.gcount())));
    }
    size = hasher.bytesHashed();
    return hasher.finish();
}

/// Records why a line or path is rejected; returns "nothing".
std::nullopt_t bad(std::string& why, std::string reason)
{
    why = std::move(reason);
    return std::nullopt;
}

} // namespace

std::optional<ProductLine> parseProductLine(std::string_view line, std::string& why)
{
    line = trim(line);
    auto word = [](char c) { return !isSpace(c); };
    ProductLine p;
    p.type = std::string(takeWhile(line, word));
    if (p.type.empty() || !allOf(p.type, "_-")) return bad(why, "bad product type");
    if (!skipSpaces(line)) return bad(why, "missing subtype");
    p.subtype = std::string(takeWhile(line, word));
    if (!allOf(p.subtype, "_-")) return bad(why, "bad product subtype");
    if (!skipSpaces(line)) return bad(why, "missing path");
    if (!line.empty() && line.front() == '"') {
        auto close = line.find('"', 1);
        if (close == std::string_view::npos || close == 1) return bad(why, "bad quoted path");
        p.path = std::string(line.substr(1, close - 1));
        line.remove_prefix(close + 1);
    } else {
        p.path = std::string(
            takeWhile(line, [](char c) { return !isSpace(c) && c != '<' && c != '>' && c != '"'; }));
        if (p.path.empty()) return bad(why, "bad path");
    }
    if (line.empty()) return p;
    if (!skipSpaces(line)) return bad(why, "junk after the path");
    p.defaultPath = std::string(takeWhile(line, [](char c) { return !isSpace(c) && c != '<' && c != '>'; }));
    if (p.defaultPath.empty() || !line.empty()) return bad(why, "bad default path");
    return p;
}

std::optional<BuildMetric> parseMetricLine(std::string_view line, std::string& why)
{
    std::vector<std::string_view> fields;
    for (line = trim(line); !line.empty(); skipSpaces(line))
        fields.push_back(takeWhile(line, [](char c) { return !isSpace(c); }));
    if (fields.size() < 2) return bad(why, "expected ‘name value [unit]’");
    if (!allOf(fields[0], "._-")) return bad(why, "bad metric name");
    BuildMetric m{.name = std::string(fields[0])};
    auto v = fields[1];
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), m.value);
    if (ec != std::errc() || end != v.data() + v.size() || !std::isfinite(m.value))
        return bad(why, "bad metric value");
    if (fields.size() >= 3 && allOf(fields[2], "._%-")) m.unit = std::string(fields[2]);
    return m;
}

namespace {

/// Checks a product's path against the outputs and fills in name, size and hash.
std::optional<BuildProduct>
resolveProduct(const ProductLine& line, const std::map<std::string, std::string>& outputs, std::string& why)
{
    if (line.path.empty() || line.path[0] != '/') return bad(why, "path is not absolute");
    auto path = fs::path(line.path).lexically_normal();
    if (!path.has_filename() && path != "/") path = path.parent_path();
    BuildProduct p{
        .type = line.type, .subtype = line.subtype, .path = path.string(), .defaultPath = line.defaultPath};
    for (auto& [name, output] : outputs) {
        auto rel = path.lexically_relative(output);
        if (rel.empty() || *rel.begin() == "..") continue;
        auto type = rel == "." ? memberType(output, {}) : memberType(output, rel);
        if (type == fs::file_type::not_found || type == fs::file_type::none)
            return bad(why, "‘" + p.path + "’ does not exist in the output");
        if (rel != ".") p.name = path.filename().string();
        if (!allOf(p.name, ".@:_+ -")) p.name.clear();
        if (type == fs::file_type::regular) {
            uint64_t size = 0;
            p.sha256 = hashFile(path, size).toBase16();
            p.fileSize = size;
        }
        return p;
    }
    return bad(why, "‘" + p.path + "’ is not inside an output of the build");
}

void readProducts(const fs::path& file, const std::map<std::string, std::string>& outputs, NixSupport& res)
{
    auto text = readCapped(file);
    auto lines = splitLines(text);
    for (size_t i = 0; i < lines.size(); ++i) {
        if (trim(lines[i]).empty()) continue;
        std::string why;
        auto line = parseProductLine(lines[i], why);
        auto product = line ? resolveProduct(*line, outputs, why) : std::nullopt;
        if (product)
            res.products.push_back(std::move(*product));
        else
            log::warn("{}:{}: {}; line skipped", file.string(), i + 1, why);
    }
}

void readMetrics(const fs::path& file, NixSupport& res)
{
    auto text = readCapped(file);
    auto lines = splitLines(text);
    for (size_t i = 0; i < lines.size(); ++i) {
        if (trim(lines[i]).empty()) continue;
        std::string why;
        if (auto m = parseMetricLine(lines[i], why))
            res.metrics[m->name] = std::move(*m);
        else
            log::warn("{}:{}: {}; line skipped", file.string(), i + 1, why);
    }
}

void readReleaseName(const fs::path& file, NixSupport& res)
{
    auto name = std::string(trim(readCapped(file)));
    if (!name.empty() && allOf(name, ".@:_-"))
        res.releaseName = name;
    else
        log::warn("{}: not a release name (letters, digits and .@:_- only); ignored", file.string());
}

void addDefaultProducts(const std::map<std::string, std::string>& outputs, NixSupport& res)
{
    for (auto& [name, output] : outputs) {
        if (memberType(output, {}) != fs::file_type::directory) continue;
        auto base = fs::path(output).filename().string();
        auto dash = base.find('-');
        res.products.push_back({.type = "nix-build",
                                .subtype = name == "out" ? "" : name,
                                .path = output,
                                .name = dash == std::string::npos ? base : base.substr(dash + 1)});
    }
}

} // namespace

NixSupport readNixSupport(const std::map<std::string, std::string>& outputs)
{
    // Hydra goes through the outputs in store path order: the last release name wins.
    std::set<std::string> paths;
    for (const auto& [name, path] : outputs) paths.insert(path);

    NixSupport res;
    bool explicitProducts = false;
    for (auto& output : paths) {
        fs::path dir = fs::path(output) / "nix-support";
        auto t = memberType(output, "nix-support/failed");
        if (t != fs::file_type::not_found && t != fs::file_type::none) res.failed = true;
        if (isRegularMember(output, "nix-support/hydra-build-products")) {
            explicitProducts = true;
            readProducts(dir / "hydra-build-products", outputs, res);
        }
        if (isRegularMember(output, "nix-support/hydra-release-name"))
            readReleaseName(dir / "hydra-release-name", res);
        if (isRegularMember(output, "nix-support/hydra-metrics")) readMetrics(dir / "hydra-metrics", res);
    }
    if (!explicitProducts) addDefaultProducts(outputs, res);
    return res;
}

} // namespace hydra::qr

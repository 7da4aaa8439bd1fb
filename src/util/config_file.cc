#include "util/config_file.hh"

#include "util/error.hh"

#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace hydra {

namespace fs = std::filesystem;

std::string ConfigLocation::str() const
{
    return fmt::format("{}:{}", file, line);
}

namespace {

bool isBlank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

std::string_view trim(std::string_view s)
{
    while (!s.empty() && isBlank(s.front())) s.remove_prefix(1);
    while (!s.empty() && isBlank(s.back())) s.remove_suffix(1);
    return s;
}

bool equalsIgnoreCase(std::string_view a, std::string_view b)
{
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
        auto x = static_cast<unsigned char>(a[i]);
        auto y = static_cast<unsigned char>(b[i]);
        if (std::tolower(x) != std::tolower(y)) return false;
    }
    return true;
}

bool startsWithIgnoreCase(std::string_view s, std::string_view prefix)
{
    return s.size() >= prefix.size() && equalsIgnoreCase(s.substr(0, prefix.size()), prefix);
}

// Cuts an unescaped '#' and what follows, and turns "\#" into "#" (as Config::General does,
// also inside quotes).
std::string stripComment(std::string_view line)
{
    std::string out;
    for (size_t i = 0; i < line.size(); ++i) {
        if (line[i] == '\\' && i + 1 < line.size() && line[i + 1] == '#') {
            out += '#';
            ++i;
        } else if (line[i] == '#') {
            break;
        } else {
            out += line[i];
        }
    }
    return out;
}

// A value wholly enclosed in double quotes loses them; \" inside becomes ".
std::string unquote(std::string_view v)
{
    if (v.size() < 2 || v.front() != '"' || v.back() != '"') return std::string(v);
    std::string out;
    for (size_t i = 1; i + 1 < v.size(); ++i) {
        if (v[i] == '\\' && i + 2 < v.size() && v[i + 1] == '"') ++i;
        out += v[i];
    }
    return out;
}

bool isHeredocMarker(std::string_view s)
{
    if (s.empty()) return false;
    for (char c : s)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
    return true;
}

bool isSectionName(std::string_view s)
{
    if (s.empty()) return false;
    for (char c : s)
        if (c == '<' || c == '>' || c == '=' || c == '"' || isBlank(c)) return false;
    return true;
}

std::vector<std::string> splitLines(std::string_view text)
{
    std::vector<std::string> lines;
    size_t start = 0;
    while (start < text.size()) {
        auto end = text.find('\n', start);
        if (end == std::string_view::npos) end = text.size();
        auto line = text.substr(start, end - start);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        lines.emplace_back(line);
        start = end + 1;
    }
    return lines;
}

std::string readWholeFile(const std::string& path, const std::string& context)
{
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error("{}cannot read {}: {}", context, path, std::strerror(errno));
    std::ostringstream buf;
    buf << in.rdbuf();
    if (in.bad()) throw Error("{}cannot read {}: {}", context, path, std::strerror(errno));
    return buf.str();
}

class FileParser;

// State shared by all files of one configuration: the chain of includes being read.
class Reader {
public:
    explicit Reader(const ConfigParseOptions& options) : options_(options) {}

    // Reads `path` into `into`; `site` is the include line that named it (nullptr at top).
    void readFile(const std::string& path, ConfigSection& into, const ConfigLocation* site,
                  const std::string& arg);
    void readText(std::string_view text, const std::string& name, ConfigSection& into);

private:
    struct Frame {
        std::string key;     // absolute, normalised path: identifies the file
        std::string display; // the path as it was opened, for messages
    };
    void checkIncludable(const std::string& path, const std::string& key, const ConfigLocation& site,
                         const std::string& arg) const;

    const ConfigParseOptions& options_;
    std::vector<Frame> chain_;
};

// Parses the lines of one file into a section, handing includes back to the Reader.
class FileParser {
public:
    FileParser(Reader& reader, std::string file, std::string_view text, ConfigSection& root)
        : reader_(reader), file_(std::move(file)), lines_(splitLines(text)), stack_{&root}
    {}

    void run();

private:
    bool nextLogicalLine(std::string& text, int& lineNo);
    void skipCComment(std::string_view first, int lineNo);
    void handle(const std::string& line, int lineNo);
    void handleEntry(const std::string& line, int lineNo);
    void openSection(std::string_view inner, const std::string& line, int lineNo);
    void closeSection(std::string_view name, const std::string& line, int lineNo);
    void include(std::string_view arg, int lineNo);
    std::string readHeredoc(const std::string& marker, int lineNo);
    [[noreturn]] void expected(const std::string& line, int lineNo) const;

    Reader& reader_;
    std::string file_;
    std::vector<std::string> lines_;
    size_t next_ = 0;
    // Open sections, outermost first; stack_[0] is where this file's text goes.
    std::vector<ConfigSection*> stack_;
};

void FileParser::run()
{
    std::string line;
    int lineNo = 0;
    while (nextLogicalLine(line, lineNo)) handle(line, lineNo);
    if (stack_.size() > 1) {
        auto& open = *stack_.back();
        throw Error("{}: section <{}> is never closed: expected </{}> before the end of {}", open.loc.str(),
                    open.name, open.name, file_);
    }
}

// One construct: comments and blank lines skipped, backslash-continued lines joined.
bool FileParser::nextLogicalLine(std::string& text, int& lineNo)
{
    while (next_ < lines_.size()) {
        lineNo = static_cast<int>(next_ + 1);
        auto stripped = stripComment(lines_[next_++]);
        auto t = trim(stripped);
        if (t.empty()) continue;
        if (t.starts_with("/*")) {
            skipCComment(t, lineNo);
            continue;
        }
        text = std::string(t);
        while (!text.empty() && text.back() == '\\' && next_ < lines_.size()) {
            text.pop_back();
            text += trim(stripComment(lines_[next_++]));
        }
        return true;
    }
    return false;
}

void FileParser::skipCComment(std::string_view first, int lineNo)
{
    if (first.find("*/", 2) != std::string_view::npos) return;
    while (next_ < lines_.size())
        if (lines_[next_++].find("*/") != std::string::npos) return;
    throw Error("{}:{}: comment '/*' is never closed: expected '*/'", file_, lineNo);
}

void FileParser::expected(const std::string& line, int lineNo) const
{
    throw Error("{}:{}: expected 'key = value', '<section>' or '</section>', got '{}'", file_, lineNo, line);
}

void FileParser::handle(const std::string& line, int lineNo)
{
    std::string_view l = line;
    if (startsWithIgnoreCase(l, "<<include")) {
        if (l.size() < 11 || !l.ends_with(">>") || !isBlank(l[9])) expected(line, lineNo);
        include(trim(l.substr(9, l.size() - 11)), lineNo);
    } else if (l.starts_with("</")) {
        if (!l.ends_with('>')) expected(line, lineNo);
        closeSection(trim(l.substr(2, l.size() - 3)), line, lineNo);
    } else if (l.starts_with('<')) {
        if (l.size() < 2 || !l.ends_with('>')) expected(line, lineNo);
        openSection(trim(l.substr(1, l.size() - 2)), line, lineNo);
    } else {
        handleEntry(line, lineNo);
    }
}

void FileParser::handleEntry(const std::string& line, int lineNo)
{
    size_t keyEnd = 0;
    while (keyEnd < line.size() && line[keyEnd] != '=' && !isBlank(line[keyEnd])) ++keyEnd;
    if (keyEnd == 0) expected(line, lineNo);
    std::string key = line.substr(0, keyEnd);
    auto rest = trim(std::string_view(line).substr(keyEnd));
    if (rest.starts_with('=')) rest = trim(rest.substr(1));

    if (equalsIgnoreCase(key, "include")) {
        include(rest, lineNo);
        return;
    }
    std::string value;
    if (rest.starts_with("<<") && isHeredocMarker(rest.substr(2)))
        value = readHeredoc(std::string(rest.substr(2)), lineNo);
    else
        value = unquote(rest);
    stack_.back()->entries.push_back({std::move(key), std::move(value), {file_, lineNo}});
}

void FileParser::openSection(std::string_view inner, const std::string& line, int lineNo)
{
    size_t nameEnd = 0;
    while (nameEnd < inner.size() && !isBlank(inner[nameEnd])) ++nameEnd;
    auto name = inner.substr(0, nameEnd);
    if (!isSectionName(name)) expected(line, lineNo);
    ConfigSection section;
    section.name = std::string(name);
    section.label = unquote(trim(inner.substr(nameEnd)));
    section.loc = {file_, lineNo};
    auto& parent = *stack_.back();
    parent.sections.push_back(std::move(section));
    // Only the newest child of the innermost section is ever pushed, so no pointer on the
    // stack is invalidated by the push_back above.
    stack_.push_back(&parent.sections.back());
}

void FileParser::closeSection(std::string_view name, const std::string& line, int lineNo)
{
    if (!isSectionName(name)) expected(line, lineNo);
    if (stack_.size() == 1) throw Error("{}:{}: </{}> without a matching <{}>", file_, lineNo, name, name);
    auto& open = *stack_.back();
    if (!equalsIgnoreCase(open.name, name))
        throw Error("{}:{}: expected </{}> to close <{}> opened at line {}, got </{}>", file_, lineNo,
                    open.name, open.name, open.loc.line, name);
    stack_.pop_back();
}

void FileParser::include(std::string_view arg, int lineNo)
{
    std::string name = unquote(arg);
    ConfigLocation site{file_, lineNo};
    if (name.empty()) throw Error("{}: expected a file name after 'include'", site.str());
    fs::path target(name);
    if (target.is_relative()) target = fs::path(file_).parent_path() / target;
    reader_.readFile(target.string(), *stack_.back(), &site, name);
}

std::string FileParser::readHeredoc(const std::string& marker, int lineNo)
{
    std::vector<std::string> body;
    while (next_ < lines_.size()) {
        const auto& raw = lines_[next_++];
        if (trim(raw) != marker) {
            body.push_back(raw);
            continue;
        }
        // Lines lose as much leading blank space as the terminator is indented by.
        size_t indent = 0;
        while (indent < raw.size() && isBlank(raw[indent])) ++indent;
        std::string value;
        for (size_t i = 0; i < body.size(); ++i) {
            size_t cut = 0;
            while (cut < indent && cut < body[i].size() && isBlank(body[i][cut])) ++cut;
            if (i > 0) value += '\n';
            value += body[i].substr(cut);
        }
        return std::string(trim(value));
    }
    throw Error("{}:{}: here-document <<{} is never terminated: expected a line '{}'", file_, lineNo, marker,
                marker);
}

std::string normalisedKey(const std::string& path)
{
    std::error_code ec;
    auto p = fs::weakly_canonical(fs::absolute(path, ec), ec);
    return ec ? path : p.string();
}

void Reader::checkIncludable(const std::string& path, const std::string& key, const ConfigLocation& site,
                             const std::string& arg) const
{
    auto prefix = fmt::format("{}: cannot include '{}': ", site.str(), arg);
    std::error_code ec;
    auto status = fs::status(path, ec);
    if (!fs::exists(status)) throw Error("{}{} does not exist", prefix, path);
    if (!fs::is_regular_file(status)) throw Error("{}{} is not a regular file", prefix, path);
    for (size_t i = 0; i < chain_.size(); ++i) {
        if (chain_[i].key != key) continue;
        std::string cycle;
        for (size_t j = i; j < chain_.size(); ++j) cycle += chain_[j].display + " -> ";
        throw Error("{}include cycle {}{}", prefix, cycle, path);
    }
    if (static_cast<int>(chain_.size()) > options_.maxIncludeDepth)
        throw Error("{}includes are nested more than {} deep", prefix, options_.maxIncludeDepth);
}

void Reader::readFile(const std::string& path, ConfigSection& into, const ConfigLocation* site,
                      const std::string& arg)
{
    auto key = normalisedKey(path);
    std::string context;
    if (site) {
        checkIncludable(path, key, *site, arg);
        context = fmt::format("{}: ", site->str());
    }
    auto text = readWholeFile(path, context);
    chain_.push_back({key, path});
    try {
        FileParser(*this, path, text, into).run();
    } catch (...) {
        chain_.pop_back();
        throw;
    }
    chain_.pop_back();
}

void Reader::readText(std::string_view text, const std::string& name, ConfigSection& into)
{
    chain_.push_back({normalisedKey(name), name});
    FileParser(*this, name, text, into).run();
    chain_.pop_back();
}

} // namespace

const ConfigEntry* ConfigSection::last(std::string_view key) const
{
    for (auto i = entries.rbegin(); i != entries.rend(); ++i)
        if (i->key == key) return &*i;
    return nullptr;
}

std::vector<const ConfigEntry*> ConfigSection::all(std::string_view key) const
{
    std::vector<const ConfigEntry*> out;
    for (auto& e : entries)
        if (e.key == key) out.push_back(&e);
    return out;
}

std::optional<std::string> ConfigSection::get(std::string_view key) const
{
    auto e = last(key);
    return e ? std::optional<std::string>(e->value) : std::nullopt;
}

std::vector<const ConfigSection*> ConfigSection::blocks(std::string_view blockName) const
{
    std::vector<const ConfigSection*> out;
    for (auto& s : sections)
        if (s.name == blockName) out.push_back(&s);
    return out;
}

const ConfigSection* ConfigSection::block(std::string_view blockName) const
{
    auto all = blocks(blockName);
    return all.empty() ? nullptr : all.back();
}

ConfigSection parseConfigFile(const std::string& path, const ConfigParseOptions& options)
{
    ConfigSection root;
    root.loc = {path, 0};
    Reader reader(options);
    reader.readFile(path, root, nullptr, path);
    return root;
}

ConfigSection parseConfigText(std::string_view text, const std::string& name,
                              const ConfigParseOptions& options)
{
    ConfigSection root;
    root.loc = {name, 0};
    Reader reader(options);
    reader.readText(text, name, root);
    return root;
}

} // namespace hydra

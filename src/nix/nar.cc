#include "nix/nar.hh"

#include "util/error.hh"

#include <algorithm>
#include <cerrno>
#include <dirent.h>
#include <fcntl.h>
#include <memory>
#include <optional>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace hydra::nix {

namespace {

constexpr size_t chunkSize = size_t{64} * 1024;
// The longest keyword in a NAR is "nix-archive-1"; anything much longer is garbage.
constexpr uint64_t maxTokenLength = 16;

// One pass over one NAR; `path` names the entry being read, for errors and the visitor.
class NarParser {
public:
    NarParser(Source& in, NarVisitor& visitor, const NarLimits& limits)
        : in_(in), visitor_(visitor), limits_(limits)
    {}

    void parse()
    {
        if (readToken("", "NAR header") != narMagic)
            throw Error("{} is not a NAR: it does not start with '{}'", in_.describe(), narMagic);
        parseNode("", 0);
    }

private:
    [[noreturn]] void fail(const std::string& path, std::string_view msg)
    {
        throw Error("invalid NAR from {}: {} (at '/{}')", in_.describe(), msg, printable(path));
    }

    std::string readToken(const std::string& path, std::string_view what)
    {
        uint64_t len = readU64(in_, what);
        if (len > maxTokenLength) fail(path, fmt::format("expected {}, got a string of {} bytes", what, len));
        std::string s(static_cast<size_t>(len), '\0');
        readExact(in_, s.data(), s.size(), what);
        readPadding(in_, len, what);
        return s;
    }

    void expect(const std::string& path, std::string_view token)
    {
        auto what = fmt::format("'{}'", token);
        auto got = readToken(path, what);
        if (got != token) fail(path, fmt::format("expected '{}', got '{}'", token, printable(got)));
    }

    void parseNode(const std::string& path, size_t depth)
    {
        expect(path, "(");
        expect(path, "type");
        auto type = readToken(path, "entry type");
        if (type == "regular")
            parseRegular(path);
        else if (type == "symlink")
            parseSymlink(path);
        else if (type == "directory")
            return parseDirectory(path, depth); // reads its own ")"
        else
            fail(path, fmt::format("unknown entry type '{}'", printable(type)));
        expect(path, ")");
    }

    void parseRegular(const std::string& path)
    {
        auto tok = readToken(path, "'executable' or 'contents'");
        bool executable = tok == "executable";
        if (executable) {
            expect(path, "");
            tok = readToken(path, "'contents'");
        }
        if (tok != "contents") fail(path, fmt::format("expected 'contents', got '{}'", printable(tok)));
        parseContents(path, executable);
    }

    void parseContents(const std::string& path, bool executable)
    {
        auto what = fmt::format("contents of '/{}'", path);
        uint64_t size = readU64(in_, what);
        visitor_.fileStart(path, executable, size);
        std::vector<char> buf(static_cast<size_t>(std::min<uint64_t>(size, chunkSize)));
        for (uint64_t left = size; left > 0;) {
            size_t n = static_cast<size_t>(std::min<uint64_t>(left, buf.size()));
            readExact(in_, buf.data(), n, what);
            visitor_.fileData(std::string_view(buf.data(), n));
            left -= n;
        }
        readPadding(in_, size, what);
        visitor_.fileEnd();
    }

    void parseSymlink(const std::string& path)
    {
        expect(path, "target");
        auto target = readString(in_, fmt::format("symlink target of '/{}'", path), limits_.maxTargetLength);
        if (target.empty()) fail(path, "empty symlink target");
        if (target.find('\0') != std::string::npos) fail(path, "symlink target contains a NUL byte");
        visitor_.symlink(path, target);
    }

    void checkName(const std::string& path, const std::string& name, const std::optional<std::string>& prev)
    {
        if (name.empty() || name == "." || name == "..")
            fail(path, fmt::format("invalid entry name '{}'", printable(name)));
        if (name.find('/') != std::string::npos || name.find('\0') != std::string::npos)
            fail(path, fmt::format("entry name '{}' contains '/' or a NUL byte", printable(name)));
        if (prev && name <= *prev)
            fail(path, fmt::format("entry '{}' is not sorted after '{}' (or is a duplicate)", printable(name),
                                   printable(*prev)));
    }

    void parseDirectory(const std::string& path, size_t depth)
    {
        if (depth > limits_.maxDepth)
            fail(path, fmt::format("directories nested deeper than {}", limits_.maxDepth));
        visitor_.directory(path);
        std::optional<std::string> prev;
        for (;;) {
            auto tok = readToken(path, "'entry' or ')'");
            if (tok == ")") break;
            if (tok != "entry") fail(path, fmt::format("expected 'entry' or ')', got '{}'", printable(tok)));
            expect(path, "(");
            expect(path, "name");
            auto name = readString(in_, fmt::format("entry name in '/{}'", path), limits_.maxNameLength);
            checkName(path, name, prev);
            expect(path, "node");
            parseNode(path.empty() ? name : path + "/" + name, depth + 1);
            expect(path, ")");
            prev = std::move(name);
        }
    }

    Source& in_;
    NarVisitor& visitor_;
    const NarLimits& limits_;
};

void dumpNode(const std::string& fsPath, Sink& out);

std::vector<std::string> sortedEntries(const std::string& dir)
{
    std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir.c_str()), ::closedir);
    if (!d) throwSysError(fmt::format("opening directory '{}'", dir));
    std::vector<std::string> names;
    errno = 0;
    while (dirent* e = ::readdir(d.get())) {
        std::string_view name = e->d_name;
        if (name != "." && name != "..") names.emplace_back(name);
    }
    if (errno != 0) throwSysError(fmt::format("reading directory '{}'", dir));
    std::sort(names.begin(), names.end());
    return names;
}

std::string readLink(const std::string& path)
{
    std::vector<char> buf(256);
    for (;;) {
        ssize_t n = ::readlink(path.c_str(), buf.data(), buf.size());
        if (n < 0) throwSysError(fmt::format("reading symbolic link '{}'", path));
        if (static_cast<size_t>(n) < buf.size()) return std::string(buf.data(), static_cast<size_t>(n));
        buf.resize(buf.size() * 2);
    }
}

void dumpContents(const std::string& path, uint64_t size, Sink& out)
{
    AutoFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd) throwSysError(fmt::format("opening '{}'", path));
    writeString(out, "contents");
    writeU64(out, size);
    std::vector<char> buf(static_cast<size_t>(std::min<uint64_t>(size, chunkSize)));
    for (uint64_t left = size; left > 0;) {
        ssize_t n = ::read(fd.get(), buf.data(), static_cast<size_t>(std::min<uint64_t>(left, buf.size())));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throwSysError(fmt::format("reading '{}'", path));
        // The size is already written: a file that changes under us cannot be archived.
        if (n == 0) throw Error("file '{}' shrank while it was being archived", path);
        out.write(std::string_view(buf.data(), static_cast<size_t>(n)));
        left -= static_cast<uint64_t>(n);
    }
    writePadding(out, size);
}

void dumpDirectory(const std::string& path, Sink& out)
{
    writeString(out, "directory");
    for (const auto& name : sortedEntries(path)) {
        writeString(out, "entry");
        writeString(out, "(");
        writeString(out, "name");
        writeString(out, name);
        writeString(out, "node");
        dumpNode(path + "/" + name, out);
        writeString(out, ")");
    }
}

void dumpNode(const std::string& fsPath, Sink& out)
{
    struct stat st {};
    if (::lstat(fsPath.c_str(), &st) != 0) throwSysError(fmt::format("getting status of '{}'", fsPath));
    writeString(out, "(");
    writeString(out, "type");
    if (S_ISREG(st.st_mode)) {
        writeString(out, "regular");
        if (st.st_mode & S_IXUSR) {
            writeString(out, "executable");
            writeString(out, "");
        }
        dumpContents(fsPath, static_cast<uint64_t>(st.st_size), out);
    } else if (S_ISDIR(st.st_mode)) {
        dumpDirectory(fsPath, out);
    } else if (S_ISLNK(st.st_mode)) {
        writeString(out, "symlink");
        writeString(out, "target");
        writeString(out, readLink(fsPath));
    } else {
        throw Error("file '{}' has an unsupported type (not a file, directory or symlink)", fsPath);
    }
    writeString(out, ")");
}

} // namespace

void dumpPath(const std::string& fsPath, Sink& out)
{
    writeString(out, narMagic);
    dumpNode(fsPath, out);
}

void parseNar(Source& in, NarVisitor& visitor, const NarLimits& limits)
{
    NarParser(in, visitor, limits).parse();
}

void copyNar(Source& in, Sink& out, const NarLimits& limits)
{
    TeeSource tee(in, out);
    NarVisitor ignore;
    parseNar(tee, ignore, limits);
}

} // namespace hydra::nix

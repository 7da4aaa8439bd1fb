#include "server/product_file.hh"

#include "nix/store_path.hh"
#include "server/http.hh"

#include <array>
#include <cerrno>
#include <fcntl.h>
#include <filesystem>
#include <fmt/format.h>
#include <sys/stat.h>
#include <utility>

namespace hydra::server {

namespace fs = std::filesystem;

namespace {

bool plainName(const std::string& s)
{
    return !s.empty() && s != "." && s != ".." && s.find('/') == std::string::npos &&
           s.find('\0') == std::string::npos;
}

/// The store path `productPath` lies in (`<store>/<hash>-<name>`), checked.
std::string storePathOf(const std::string& productPath, const std::string& what)
{
    auto prefix = std::string(nix::defaultStoreDir) + "/";
    bool ok = productPath.starts_with(prefix);
    std::string top;
    if (ok) {
        auto rest = std::string_view(productPath).substr(prefix.size());
        top = prefix + std::string(rest.substr(0, rest.find('/')));
        ok = nix::StorePath::isValid(top);
        for (size_t i = rest.find('/'); ok && i != std::string_view::npos;) {
            auto next = rest.find('/', i + 1);
            ok = plainName(
                std::string(rest.substr(i + 1, next == std::string_view::npos ? next : next - i - 1)));
            i = next;
        }
    }
    if (!ok)
        throw HttpError(403, fmt::format("{} refers outside of the Nix store (‘{}’)", what, productPath));
    return top;
}

bool isWithin(const fs::path& p, const fs::path& root)
{
    auto ps = p.string();
    auto rs = root.string();
    return ps == rs || (ps.starts_with(rs) && ps.size() > rs.size() && ps[rs.size()] == '/');
}

/// `path` with every symlink resolved, which must stay inside `root`.
fs::path resolveWithin(const fs::path& path, const fs::path& root, const std::string& what)
{
    std::error_code ec;
    auto real = fs::canonical(path, ec);
    if (ec) throw HttpError(404, fmt::format("{}: ‘{}’ does not exist", what, path.string()));
    if (!isWithin(real, root))
        throw HttpError(403, fmt::format("{}: ‘{}’ refers outside of its store path", what, path.string()));
    return real;
}

} // namespace

ProductFile openProductFile(const std::string& productPath, const std::vector<std::string>& segments,
                            bool slash, const std::string& what)
{
    auto top = storePathOf(productPath, what);
    std::error_code ec;
    auto root = fs::canonical(top, ec);
    if (ec) throw HttpError(404, fmt::format("{}: ‘{}’ is no longer in the Nix store", what, top));
    auto store = fs::canonical(nix::defaultStoreDir, ec);
    if (ec || !isWithin(root, store) || root == store)
        throw HttpError(403, fmt::format("{}: ‘{}’ refers outside of the Nix store", what, top));
    fs::path asked = productPath;
    for (const auto& s : segments) {
        if (!plainName(s)) throw HttpError(400, fmt::format("invalid file name ‘{}’", s));
        asked /= s;
    }
    auto real = resolveWithin(asked, root, what);
    bool directory = fs::is_directory(real, ec);
    if (directory && !slash) return {.fd = AutoFd(), .size = 0, .name = {}, .needsSlash = true};
    if (directory && fs::exists(asked / "index.html", ec)) {
        asked /= "index.html";
        real = resolveWithin(asked, root, what);
    }
    int fd = ::open(real.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) throw HttpError(404, fmt::format("{}: cannot open ‘{}’", what, asked.string()));
    ProductFile f{.fd = AutoFd(fd), .size = 0, .name = asked.filename().string(), .needsSlash = false};
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        throw HttpError(404, fmt::format("{}: ‘{}’ is a directory, not a file", what, asked.string()));
    f.size = static_cast<uint64_t>(st.st_size);
    return f;
}

std::string contentTypeOf(const std::string& name)
{
    static const std::array<std::pair<const char*, const char*>, 18> types{{
        {".html", "text/html; charset=utf-8"},
        {".htm", "text/html; charset=utf-8"},
        {".txt", "text/plain; charset=utf-8"},
        {".log", "text/plain; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".json", "application/json"},
        {".xml", "application/xml"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".jpg", "image/jpeg"},
        {".gif", "image/gif"},
        {".pdf", "application/pdf"},
        {".gz", "application/gzip"},
        {".xz", "application/x-xz"},
        {".bz2", "application/x-bzip2"},
        {".zst", "application/zstd"},
        {".zip", "application/zip"},
    }};
    for (const auto& [ext, type] : types)
        if (name.ends_with(ext)) return type;
    return "application/octet-stream";
}

} // namespace hydra::server

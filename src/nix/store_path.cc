#include "nix/store_path.hh"

#include "nix/base32.hh"
#include "util/error.hh"

namespace hydra::nix {

namespace {

bool isNameChar(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '+' ||
           c == '-' || c == '.' || c == '_' || c == '?' || c == '=';
}

/// Printable rendering of one byte for messages (control bytes would garble a log line).
std::string showChar(char c)
{
    auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f) return std::string(1, c);
    return fmt::format("\\x{:02x}", u);
}

} // namespace

void checkStorePathName(std::string_view name, std::string_view context)
{
    if (name.empty()) throw Error("invalid store path '{}': empty name", context);
    if (name.size() > StorePath::maxNameLen)
        throw Error("invalid store path '{}': name is longer than {} characters", context,
                    StorePath::maxNameLen);
    // "." and ".." as the first dash-separated component would make the path escape or alias
    // the store directory; newer Nix rejects them and no valid Nix 2.8 path uses them.
    auto first = name.substr(0, name.find('-'));
    if (first == "." || first == "..")
        throw Error("invalid store path '{}': name must not start with '{}'", context, first);
    for (char c : name)
        if (!isNameChar(c))
            throw Error("invalid store path '{}': name contains illegal character '{}'", context,
                        showChar(c));
}

namespace {

/// Checks "<hash>-<name>"; messages name `context`, the string the caller was given.
void checkBaseName(std::string_view base, std::string_view context)
{
    if (base.size() < StorePath::hashLen + 2 || base[StorePath::hashLen] != '-')
        throw Error("invalid store path '{}': expected <32-character hash>-<name>", context);
    for (char c : base.substr(0, StorePath::hashLen))
        if (!isBase32Char(c))
            throw Error("invalid store path '{}': illegal base-32 character '{}' in hash part", context,
                        showChar(c));
    checkStorePathName(base.substr(StorePath::hashLen + 1), context);
}

} // namespace

StorePath StorePath::fromBaseName(std::string_view baseName, std::string_view storeDir)
{
    checkBaseName(baseName, baseName);
    return StorePath(std::string(storeDir), std::string(baseName));
}

StorePath StorePath::parse(std::string_view path, std::string_view storeDir)
{
    if (path.size() <= storeDir.size() || path.substr(0, storeDir.size()) != storeDir ||
        path[storeDir.size()] != '/')
        throw Error("invalid store path '{}': not in the store directory '{}'", path, storeDir);
    auto base = path.substr(storeDir.size() + 1);
    if (base.find('/') != std::string_view::npos)
        throw Error("invalid store path '{}': not directly in the store directory '{}'", path, storeDir);
    checkBaseName(base, path);
    return StorePath(std::string(storeDir), std::string(base));
}

bool StorePath::isValid(std::string_view path, std::string_view storeDir)
{
    try {
        parse(path, storeDir);
        return true;
    } catch (const Error&) {
        return false;
    }
}

std::string StorePath::toString() const
{
    return storeDir_ + "/" + baseName_;
}

bool StorePath::isDerivation() const
{
    return name().ends_with(".drv");
}

} // namespace hydra::nix

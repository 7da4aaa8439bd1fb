#include "nix/narinfo.hh"

#include "nix/hash.hh"

namespace hydra::nix {

namespace {

std::string baseName(const std::string& path)
{
    auto slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

} // namespace

std::string renderNarInfo(const StorePathInfo& info, std::string_view url, std::string_view compression,
                          const SigningKey* key)
{
    // Nix's database keeps "sha256:<base16>"; narinfo and signatures use base-32.
    auto narHash = Hash::parse(info.narHash).toTyped();
    std::string out = "StorePath: " + info.path + "\nURL: " + std::string(url) +
                      "\nCompression: " + std::string(compression) + "\nNarHash: " + narHash +
                      "\nNarSize: " + std::to_string(info.narSize) + "\nReferences: ";
    // Nix reads "Name: value" with exactly one space, also when there are no references.
    for (size_t i = 0; i < info.references.size(); ++i) out += (i ? " " : "") + baseName(info.references[i]);
    out += "\n";
    if (info.deriver) out += "Deriver: " + baseName(*info.deriver) + "\n";
    for (const auto& s : info.sigs) out += "Sig: " + s + "\n";
    if (key)
        out += "Sig: " + key->sign(pathFingerprint(info.path, narHash, info.narSize, info.references)) + "\n";
    if (info.ca) out += "CA: " + *info.ca + "\n";
    return out;
}

} // namespace hydra::nix

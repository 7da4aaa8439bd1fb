#pragma once
// Finding the file a product download asks for, so that no parameter, `..` or symlink can
// make the server read anything outside the product's store path.

#include "util/fd.hh"

#include <cstdint>
#include <string>
#include <vector>

namespace hydra::server {

/// An opened regular file of a build product, or a directory asked for without a final '/'.
struct ProductFile {
    AutoFd fd;
    uint64_t size = 0;
    std::string name;        ///< the base name asked for, for its content type
    bool needsSlash = false; ///< a directory: redirect to its URL with '/' (no file is open)
};

/// Opens `productPath`/`segments...`: `productPath` must be in the Nix store, every segment a
/// plain name, and the file, symlinks resolved, inside the store path `productPath` is in. A
/// directory serves its index.html when it has one, once asked for with a final '/' (`slash`)
/// so that its relative links work. Throws HttpError (403 for a path leaving the store path,
/// 404 for a missing file or a directory) whose message names `what`.
ProductFile openProductFile(const std::string& productPath, const std::vector<std::string>& segments,
                            bool slash, const std::string& what);

/// The content type of a file by its name ("application/octet-stream" when unknown).
std::string contentTypeOf(const std::string& name);

} // namespace hydra::server

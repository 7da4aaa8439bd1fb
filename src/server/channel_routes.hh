#pragma once
// Nix channels of builds, as Hydra serves them: …/channel/latest on /, a project, a jobset and
// a job, and /eval/ID/channel, each with nixexprs.tar.bz2 and binary-cache-url.

#include "server/build_list_routes.hh"
#include "server/router.hh"

namespace hydra::server {

/// What a channel route answers.
enum class ChannelPart {
    Page,          ///< the channel's packages (HTML, or JSON)
    NixExprs,      ///< nixexprs.tar.bz2
    BinaryCacheUrl ///< the cache to substitute its paths from: this server
};

/// The handler of `part` of the latest channel of `level`.
Handler latestChannel(BuildListLevel level, ChannelPart part);
/// The handler of `part` of /eval/ID/channel.
Handler evalChannel(ChannelPart part);

} // namespace hydra::server

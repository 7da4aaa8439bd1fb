#pragma once
// What the HTTP plugins (GitHub and Gitea statuses, Slack, InfluxDB) share: Hydra's job names
// and `jobs` patterns, the web front end's base URL, and loading the builds an event names.

#include "db/build_description.hh"
#include "notify/plugin.hh"
#include "util/config_file.hh"

#include <optional>
#include <regex>
#include <string>
#include <vector>

namespace hydra::notify {

/// "project:jobset:job", as Hydra shows a build's job (showJobName).
std::string jobName(const db::BuildDescription& build);

/// The commit status state of a finished build, as GitHub and Gitea both name it: "success",
/// "error" for builds that did not really run (aborted, cancelled, cached failure, log or output
/// limit), "failure" otherwise.
std::string finishedCommitState(int buildStatus);

/// A `jobs` regular expression of a plugin block, matched against the whole job name as
/// Hydra does (/^pattern$/).
class JobPattern {
public:
    /// Compiles `pattern`; throws Error naming `loc` when it is not a valid expression.
    JobPattern(const std::string& pattern, const ConfigLocation& loc);
    bool matches(const std::string& jobName) const;
    const std::string& text() const { return text_; }

private:
    std::string text_;
    std::regex re_;
};

/// The web front end's address as links should use it: base_uri without a trailing '/', or
/// Hydra's default http://localhost:3000.
std::string webBaseUrl(const HydraConfig& config);

/// The event's own build, then the dependents a build_finished names that still exist. Empty
/// when the event's own build no longer exists; every missing build is logged.
std::vector<db::BuildDescription> loadEventBuilds(pqxx::transaction_base& t, const Event& event,
                                                  std::string_view plugin);

/// One request a plugin sends.
struct HttpPostRequest {
    std::string url;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    std::string contentType;
};

/// Sends each of `posts` (also after one failed), then throws one Error naming every URL that
/// failed, so the daemon retries; `plugin` names the sender in the message.
void sendAll(const std::vector<HttpPostRequest>& posts, std::string_view plugin);

} // namespace hydra::notify

#include "notify/run_command.hh"

#include "db/build_description.hh"
#include "db/notify_pending.hh"
#include "db/run_command_logs.hh"
#include "notify/build_json.hh"
#include "util/error.hh"
#include "util/logging.hh"
#include "util/process.hh"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fnmatch.h>
#include <sys/wait.h>
#include <unistd.h>

namespace hydra::notify {

namespace fs = std::filesystem;

namespace {

int64_t now()
{
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

bool globMatches(const std::string& pattern, std::string_view name)
{
    return pattern == "*" || ::fnmatch(pattern.c_str(), std::string(name).c_str(), 0) == 0;
}

// The description in a file of its own, removed when the run is over.
class JsonFile {
public:
    explicit JsonFile(const std::string& text)
    {
        std::string tmpl = (fs::temp_directory_path() / "hydra-runcommand-XXXXXX").string();
        AutoFd fd(::mkstemp(tmpl.data()));
        if (!fd) throwSysError(fmt::format("creating a temporary file like {}", tmpl));
        path_ = tmpl;
        writeAll(fd.get(), text, std::chrono::steady_clock::now() + std::chrono::seconds(30), path_);
    }
    ~JsonFile()
    {
        std::error_code ec;
        fs::remove(path_, ec);
    }
    JsonFile(const JsonFile&) = delete;
    JsonFile& operator=(const JsonFile&) = delete;
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

fs::path logPathOf(const fs::path& dataDir, const std::string& uuid)
{
    return dataDir / "runcommand-logs" / uuid.substr(0, 2) / uuid;
}

db::RunCommandOutcome outcomeOf(int status)
{
    db::RunCommandOutcome o;
    o.endTime = now();
    if (WIFEXITED(status)) o.exitCode = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) {
        o.signal = WTERMSIG(status);
        o.coreDumped = WCOREDUMP(status) != 0;
    }
    return o;
}

// Runs the command to its end (or the timeout); returns the wait status.
int runShell(const std::string& command, const std::string& jsonPath, const fs::path& logPath,
             std::chrono::seconds timeout)
{
    ProcessOptions po;
    po.argv = {"/bin/sh", "-c", command};
    po.setEnv["HYDRA_JSON"] = jsonPath;
    po.outputFile = logPath.string();
    po.pipeStdin = true;
    po.dieWithParent = true; // a killed daemon leaves no command running unrecorded
    auto p = Process::spawn(po);
    p.in().close();
    if (auto status = p.waitUntil(std::chrono::steady_clock::now() + timeout)) return *status;
    log::warn("command ‘{}’ still running after {} s: killing it", command, timeout.count());
    p.kill(SIGKILL);
    return p.wait();
}

std::vector<std::string> splitColons(std::string_view s)
{
    std::vector<std::string> out;
    size_t from = 0;
    for (;;) {
        auto colon = s.find(':', from);
        out.emplace_back(
            s.substr(from, colon == std::string_view::npos ? std::string_view::npos : colon - from));
        if (colon == std::string_view::npos) return out;
        from = colon + 1;
    }
}

// One command for one build: its RunCommandLogs row as it starts, its end recorded after. With
// `succeededSince`, a command that already exited 0 for this notification (a restart after a
// crash) is not run again: the check and the new row share one transaction.
void runOne(const RunCommandConfig& block, int64_t build, const std::string& json, const PluginContext& ctx,
            std::chrono::seconds timeout, std::optional<int64_t> succeededSince)
{
    auto row = ctx.db.withTransaction([&](pqxx::work& t) -> std::optional<db::RunCommandLogRow> {
        if (succeededSince &&
            db::runCommandSucceededSince(t, build, block.job, block.command, *succeededSince))
            return std::nullopt;
        return db::createRunCommandLog(t, build, block.job, block.command, now());
    });
    if (!row) {
        log::info("RunCommand: ‘{}’ already ran for build {}; not running it again", block.command, build);
        return;
    }
    auto logPath = logPathOf(ctx.dataDir, row->uuid);
    fs::create_directories(logPath.parent_path());
    JsonFile file(json);
    int status = 0;
    try {
        status = runShell(block.command, file.path(), logPath, timeout);
    } catch (const std::exception& e) {
        db::RunCommandOutcome o;
        o.endTime = now();
        o.errorNumber = errno != 0 ? errno : ENOEXEC;
        ctx.db.withTransaction([&](pqxx::work& t) { db::markRunCommandEnded(t, row->id, o); });
        throw Error("command ‘{}’ ({}): {}", block.command, block.loc.str(), e.what());
    }
    ctx.db.withTransaction([&](pqxx::work& t) { db::markRunCommandEnded(t, row->id, outcomeOf(status)); });
    if (!exitedOk(status))
        throw Error("command ‘{}’ ({}) {}; its output is in {}", block.command, block.loc.str(),
                    statusToString(status), logPath.string());
    log::info("RunCommand: ‘{}’ ran for build {}", block.command, build);
}

} // namespace

bool jobMatches(std::string_view pattern, std::string_view project, std::string_view jobset,
                std::string_view job)
{
    auto parts = splitColons(pattern);
    auto part = [&](size_t i) { return i < parts.size() ? parts[i] : std::string("*"); };
    return parts.size() <= 3 && globMatches(part(0), project) && globMatches(part(1), jobset) &&
           globMatches(part(2), job);
}

RunCommand::RunCommand(std::vector<RunCommandConfig> blocks, RunCommandOptions opts)
    : blocks_(std::move(blocks)), opts_(opts)
{}

bool RunCommand::wants(const std::string& channel) const
{
    if (!channel.starts_with("build_") && !channel.starts_with("step_") &&
        !channel.starts_with("cached_build_"))
        return false;
    auto name = eventName(channel);
    return std::any_of(blocks_.begin(), blocks_.end(), [&](const RunCommandConfig& b) {
        return std::find(b.events.begin(), b.events.end(), name) != b.events.end();
    });
}

void RunCommand::handle(const Event& event, const PluginContext& ctx)
{
    if (!wants(event.channel)) return;
    std::vector<std::string> failures;
    for (auto b : event.buildsToHandle()) handleBuild(b, eventName(event.channel), ctx, failures);
    if (failures.empty()) return;
    std::string all;
    for (const auto& f : failures) all += (all.empty() ? "" : "; ") + f;
    throw Error("RunCommand: {}", all);
}

void RunCommand::handleBuild(int64_t build, const std::string& event, const PluginContext& ctx,
                             std::vector<std::string>& failures)
{
    auto loaded = ctx.db.withTransaction([&](pqxx::work& t) {
        return std::pair(db::loadBuildDescription(t, build), db::notificationPendingSince(t, build));
    });
    const auto& desc = loaded.first;
    const auto& pendingSince = loaded.second;
    if (!desc) {
        log::warn("RunCommand: build {} of a {} event no longer exists; nothing to run", build, event);
        return;
    }
    auto json = buildJson(*desc, event).dump();
    for (const auto& block : blocks_) {
        if (std::find(block.events.begin(), block.events.end(), event) == block.events.end()) continue;
        if (!jobMatches(block.job, desc->project, desc->jobset, desc->job)) continue;
        try {
            runOne(block, build, json, ctx, opts_.timeout,
                   event == "buildFinished" ? pendingSince : std::optional<int64_t>());
        } catch (const std::exception& e) {
            failures.push_back(fmt::format("build {}: {}", build, e.what()));
        }
    }
}

} // namespace hydra::notify

namespace hydra::notify {

std::unique_ptr<Plugin> makeRunCommand(const HydraConfig& config)
{
    if (config.notify.runCommands.empty()) return nullptr;
    return std::make_unique<RunCommand>(config.notify.runCommands);
}

} // namespace hydra::notify

#include "notify/run_command.hh"

#include "db/build_description.hh"
#include "db/run_command_logs.hh"
#include "notify/build_json.hh"
#include "util/error.hh"
#include "util/logging.hh"
#include "util/process.hh"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fnmatch.h>
#include <optional>
#include <sys/stat.h>
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

// The description in a file, one per worker thread, rewritten for each build and emptied when
// the build's commands are over. A file created and deleted per event made ext4 search its
// inode bitmaps past the recently deleted ones: the daemon's largest cost per event.
class JsonFile {
public:
    JsonFile()
    {
        std::string tmpl = (fs::temp_directory_path() / "hydra-runcommand-XXXXXX").string();
        fd_ = AutoFd(::mkstemp(tmpl.data()));
        if (!fd_) throwSysError(fmt::format("creating a temporary file like {}", tmpl));
        path_ = tmpl;
    }
    ~JsonFile()
    {
        std::error_code ec;
        fs::remove(path_, ec);
    }
    JsonFile(const JsonFile&) = delete;
    JsonFile& operator=(const JsonFile&) = delete;

    void write(const std::string& text)
    {
        clear();
        writeAll(fd_.get(), text, std::chrono::steady_clock::now() + std::chrono::seconds(30), path_);
    }
    void clear()
    {
        if (::ftruncate(fd_.get(), 0) != 0 || ::lseek(fd_.get(), 0, SEEK_SET) != 0)
            throwSysError("emptying " + path_);
    }
    const std::string& path() const { return path_; }

private:
    AutoFd fd_;
    std::string path_;
};

// This thread's JSON file holding `text` until the end of the scope.
class BuildJsonFile {
public:
    explicit BuildJsonFile(const std::string& text) : file_(mine()) { file_.write(text); }
    ~BuildJsonFile()
    {
        try {
            file_.clear();
        } catch (const std::exception& e) {
            log::warn("RunCommand: {}", e.what());
        }
    }
    BuildJsonFile(const BuildJsonFile&) = delete;
    BuildJsonFile& operator=(const BuildJsonFile&) = delete;
    const std::string& path() const { return file_.path(); }

private:
    static JsonFile& mine()
    {
        thread_local JsonFile file;
        return file;
    }
    JsonFile& file_;
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

// Runs the command to its end (or the timeout). A program that cannot be executed is an
// outcome (its errno), as in Hydra; anything else that stops the start is thrown.
db::RunCommandOutcome execute(const std::string& command, const std::string& jsonPath,
                              const fs::path& logPath, std::chrono::seconds timeout)
{
    ProcessOptions po;
    po.argv = commandArgv(command);
    po.setEnv["HYDRA_JSON"] = jsonPath;
    po.outputFile = logPath.string();
    po.stdinFromNull = true; // end of file at once, with no pipe to make per run
    po.dieWithParent = true; // a killed daemon leaves no command running unrecorded
    std::optional<Process> p;
    try {
        p.emplace(Process::spawn(po));
    } catch (const SpawnError& e) {
        log::warn("RunCommand: ‘{}’: {}", command, e.what());
        db::RunCommandOutcome o;
        o.endTime = now();
        o.errorNumber = e.errorNumber();
        return o;
    }
    if (auto status = p->waitUntil(std::chrono::steady_clock::now() + timeout)) return outcomeOf(*status);
    log::warn("command ‘{}’ still running after {} s: killing it", command, timeout.count());
    p->kill(SIGKILL);
    return outcomeOf(p->wait());
}

// Hydra's split(':', pattern): trailing empty parts are dropped.
std::vector<std::string> splitColons(std::string_view s)
{
    std::vector<std::string> out;
    size_t from = 0;
    for (;;) {
        auto colon = s.find(':', from);
        out.emplace_back(
            s.substr(from, colon == std::string_view::npos ? std::string_view::npos : colon - from));
        if (colon == std::string_view::npos) break;
        from = colon + 1;
    }
    while (!out.empty() && out.back().empty()) out.pop_back();
    return out;
}

bool isBlank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// Perl runs these through the shell whatever else the command holds.
bool perlNeedsShell(std::string_view cmd)
{
    if (cmd.size() > 1 && cmd[0] == '.' && isBlank(cmd[1])) return true;
    if (cmd.size() > 4 && cmd.starts_with("exec") && isBlank(cmd[4])) return true;
    size_t word = 0;
    while (word < cmd.size() && (std::isalnum(static_cast<unsigned char>(cmd[word])) || cmd[word] == '_'))
        ++word;
    return word < cmd.size() && cmd[word] == '=';
}

// Whether the metacharacter at `at` is the '>' of a final " 2>&1", which Perl handles itself;
// here stderr already goes where stdout goes.
bool isFinalStderrToStdout(std::string_view cmd, size_t at)
{
    if (at < 2 || cmd[at] != '>' || cmd[at - 1] != '2' || !isBlank(cmd[at - 2])) return false;
    if (cmd.substr(at, 3) != ">&1") return false;
    return std::all_of(cmd.begin() + static_cast<std::ptrdiff_t>(at + 3), cmd.end(), isBlank);
}

std::vector<std::string> splitBlanks(std::string_view s)
{
    std::vector<std::string> out;
    size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && isBlank(s[i])) ++i;
        size_t start = i;
        while (i < s.size() && !isBlank(s[i])) ++i;
        if (i > start) out.emplace_back(s.substr(start, i - start));
    }
    return out;
}

/// One command to run for a build: the block's (or a dynamic hook's) matcher as recorded in
/// RunCommandLogs.job_matcher, the command, and where it comes from for messages.
struct Command {
    std::string matcher;
    std::string command;
    std::string origin;
};

// Why the build's `out` cannot be its dynamic hook; nullopt when it can.
std::optional<std::string> hookRejection(const db::BuildDescription& d, const std::string& out)
{
    if (out.empty()) return "no output named 'out'";
    struct stat st {};
    if (::stat(out.c_str(), &st) != 0) return "The 'out' output doesn't exist locally";
    if (::access(out.c_str(), X_OK) != 0) return "The 'out' output is not executable";
    if (!S_ISREG(st.st_mode)) return "The 'out' output is not a regular file or symlink";
    if (!d.dynamicRunCommandEnabled) return "project or jobset don't have dynamic runcommand enabled.";
    return std::nullopt;
}

// The build's dynamic hook, as Hydra: a succeeded job runCommandHook.<name> whose output `out`
// is an executable file (or a symlink to one), in a project and jobset that enable it.
std::optional<Command> dynamicHook(const db::BuildDescription& d)
{
    static constexpr std::string_view prefix = "runCommandHook.";
    if (d.buildStatus.value_or(-1) != 0 || d.job.size() <= prefix.size() || !d.job.starts_with(prefix))
        return std::nullopt;
    auto out =
        std::find_if(d.outputs.begin(), d.outputs.end(), [](const auto& o) { return o.name == "out"; });
    std::string path = out == d.outputs.end() ? "" : out->path;
    if (auto why = hookRejection(d, path)) {
        log::warn("DynamicRunCommand hook on {} ({}) rejected: {}", d.job, d.id, *why);
        return std::nullopt;
    }
    return Command{fmt::format("DynamicRunCommand({})", d.job), path, "dynamic RunCommand"};
}

// One command for one build: its RunCommandLogs row as it starts, its end recorded after. With
// `endedSince`, a command that already ran to its end for this notification (a restart after a
// crash) is not run again. Each step is one statement without BEGIN and COMMIT: a notification
// costs round trips to the database, and a command that starts and ends quickly has few else.
void runOne(const Command& cmd, int64_t build, const std::string& jsonPath, const PluginContext& ctx,
            std::chrono::seconds timeout, std::optional<int64_t> endedSince)
{
    auto row = ctx.db.withTransaction<pqxx::nontransaction>([&](pqxx::nontransaction& t) {
        return db::createRunCommandLog(t, build, cmd.matcher, cmd.command, now(), endedSince);
    });
    if (!row) {
        log::info("RunCommand: ‘{}’ already ran for build {}; not running it again", cmd.command, build);
        return;
    }
    auto logPath = logPathOf(ctx.dataDir, row->uuid);
    fs::create_directories(logPath.parent_path());
    auto outcome = execute(cmd.command, jsonPath, logPath, timeout);
    ctx.db.withTransaction<pqxx::nontransaction>(
        [&](pqxx::nontransaction& t) { db::markRunCommandEnded(t, row->id, outcome); });
    if (outcome.exitCode == 0)
        log::info("RunCommand: ‘{}’ ran for build {}", cmd.command, build);
    else if (!outcome.errorNumber)
        log::warn("RunCommand: ‘{}’ ({}) for build {} {}; its output is in {}", cmd.command, cmd.origin,
                  build,
                  outcome.signal ? fmt::format("was killed by signal {}", *outcome.signal)
                                 : fmt::format("exited with status {}", outcome.exitCode.value_or(-1)),
                  logPath.string());
}

} // namespace

std::vector<std::string> commandArgv(std::string_view command)
{
    std::vector<std::string> shell{"/bin/sh", "-c", std::string(command)};
    auto cmd = command.substr(std::min(command.size(), command.find_first_not_of(" \t\n\r\f\v")));
    if (perlNeedsShell(cmd)) return shell;
    if (cmd.ends_with('\n')) cmd.remove_suffix(1);
    auto meta = cmd.find_first_of("$&*(){}[]'\";\\|?<>~`\n");
    if (meta != std::string_view::npos) {
        if (!isFinalStderrToStdout(cmd, meta)) return shell;
        cmd = cmd.substr(0, meta - 2);
    }
    auto words = splitBlanks(cmd);
    return words.empty() ? shell : words;
}

bool jobMatches(std::string_view pattern, std::string_view project, std::string_view jobset,
                std::string_view job)
{
    auto parts = splitColons(pattern);
    auto part = [&](size_t i) { return i < parts.size() ? parts[i] : std::string("*"); };
    return parts.size() <= 3 && globMatches(part(0), project) && globMatches(part(1), jobset) &&
           globMatches(part(2), job);
}

RunCommand::RunCommand(std::vector<RunCommandConfig> blocks, bool dynamic, RunCommandOptions opts)
    : blocks_(std::move(blocks)), dynamic_(dynamic), opts_(opts)
{}

bool RunCommand::wants(const std::string& channel) const
{
    if (!channel.starts_with("build_") && !channel.starts_with("step_") &&
        !channel.starts_with("cached_build_"))
        return false;
    if (dynamic_ && channel == "build_finished") return true;
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
    auto desc = ctx.db.withTransaction<pqxx::nontransaction>(
        [&](pqxx::nontransaction& t) { return db::loadBuildDescription(t, build); });
    if (!desc) {
        log::warn("RunCommand: build {} of a {} event no longer exists; nothing to run", build, event);
        return;
    }
    std::vector<Command> commands;
    for (const auto& b : blocks_)
        if (std::find(b.events.begin(), b.events.end(), event) != b.events.end() &&
            jobMatches(b.job, desc->project, desc->jobset, desc->job))
            commands.push_back({b.job, b.command, b.loc.str()});
    if (dynamic_ && event == "buildFinished")
        if (auto hook = dynamicHook(*desc)) commands.push_back(std::move(*hook));
    if (commands.empty()) return;
    BuildJsonFile file(buildJson(*desc, event).dump());
    auto endedSince = event == "buildFinished" ? desc->notificationPendingSince : std::nullopt;
    for (const auto& cmd : commands) {
        try {
            runOne(cmd, build, file.path(), ctx, opts_.timeout, endedSince);
        } catch (const std::exception& e) {
            failures.push_back(
                fmt::format("build {}: ‘{}’ ({}): {}", build, cmd.command, cmd.origin, e.what()));
        }
    }
}

std::unique_ptr<Plugin> makeRunCommand(const HydraConfig& config)
{
    if (config.notify.runCommands.empty() && !config.notify.dynamicRunCommand) return nullptr;
    return std::make_unique<RunCommand>(config.notify.runCommands, config.notify.dynamicRunCommand);
}

} // namespace hydra::notify

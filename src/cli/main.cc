// The `hydra` command. Also answers to Hydra's program names (hydra-init,
// hydra-create-user) so existing service files and scripts keep working.

#include "cli/commands.hh"
#include "util/error.hh"
#include "util/logging.hh"

#include <csignal>
#include <cstdio>
#include <functional>
#include <map>
#include <pqxx/except>
#include <string>

using namespace hydra;
using namespace hydra::cli;

namespace {

struct Command {
    std::function<int(Args&)> run;
    const char* usage;
};

const std::map<std::string, Command>& commands()
{
    static const std::map<std::string, Command> table{
        {"init", {cmdInit, "hydra init"}},
        {"create-user",
         {cmdCreateUser,
          "hydra create-user NAME [--rename-from OLD] [--full-name N] [--email-address E] "
          "[--password-prompt | --password-hash H | --password P] [--role R]... [--wipe-roles] "
          "[--type T] [--help]"}},
        {"up", {cmdUp, "hydra up [--example DIR]"}},
        {"eval",
         {cmdEvalOrTrigger,
          "hydra eval PROJECT JOBSET | hydra eval trigger PROJECT JOBSET [--force] [--json]"}},
        {"build", {cmdBuild, "hydra build show|restart|cancel|bump ID... [--json] | log [--follow] ID"}},
        {"queue", {cmdQueue, "hydra queue [--limit N] [--json]"}},
        {"token", {cmdToken, "hydra token create USER NAME | list USER [--json] | revoke USER NAME"}},
        {"project",
         {cmdProject, "hydra project list | show P | create P --displayname D --owner U [--FIELD V]... | "
                      "update P [--FIELD V]... | delete P  [--json]"}},
        {"jobset",
         {cmdJobset,
          "hydra jobset list P | show P J | create P J [--FIELD V]... [--input NAME=TYPE:VALUE]... | "
          "update P J [--FIELD V]... [--remove-input NAME]... | delete P J  [--json]"}},
        {"down", {cmdDown, "hydra down"}},
        {"status", {cmdStatus, "hydra status"}},
        {"gc-roots", {cmdGcRoots, "hydra gc-roots [--grace SECONDS]"}},
    };
    return table;
}

int usage()
{
    std::fprintf(stderr, "usage:\n");
    for (auto& [name, cmd] : commands()) std::fprintf(stderr, "  %s\n", cmd.usage);
    return 2;
}

std::string baseName(const char* argv0)
{
    std::string s(argv0);
    auto slash = s.rfind('/');
    return slash == std::string::npos ? s : s.substr(slash + 1);
}

} // namespace

int main(int argc, char** argv)
{
    std::signal(SIGPIPE, SIG_IGN);
    std::vector<std::string> rest(argv + 1, argv + argc);
    std::string name = baseName(argv[0]);
    if (name.starts_with("hydra-")) {
        name = name.substr(6);
    } else {
        if (rest.empty() || rest[0] == "--help" || rest[0] == "-h") return usage();
        name = rest.front();
        rest.erase(rest.begin());
    }
    auto it = commands().find(name);
    if (it == commands().end()) {
        std::fprintf(stderr, "hydra: unknown command '%s'\n", name.c_str());
        return usage();
    }
    Args args(name, std::move(rest));
    try {
        return it->second.run(args);
    } catch (const UsageError& e) {
        std::fprintf(stderr, "hydra %s: %s\nusage: %s\n", name.c_str(), e.what(), it->second.usage);
        return 2;
    } catch (const Error& e) {
        std::fprintf(stderr, "hydra %s: error: %s\n", name.c_str(), e.what());
    } catch (const pqxx::failure& e) {
        std::fprintf(stderr, "hydra %s: database error: %s\n", name.c_str(), e.what());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "hydra %s: error: %s\n", name.c_str(), e.what());
    }
    return 1;
}

#include "cli/commands.hh"
#include "cli/site.hh"
#include "db/schema.hh"
#include "db/users.hh"
#include "util/error.hh"
#include "util/password.hh"

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <termios.h>
#include <unistd.h>

namespace hydra::cli {

namespace {

constexpr const char* helpText =
    "usage: hydra create-user NAME [--rename-from OLD] [--type hydra|google|github]\n"
    "         [--full-name NAME] [--email-address ADDRESS]\n"
    "         [--password-prompt | --password-hash HASH | --password PASSWORD]\n"
    "         [--wipe-roles] [--role ROLE]...\n"
    "\n"
    "Creates the user, or updates an existing one (roles are added unless --wipe-roles).\n"
    "Options take their value as `--opt value` or `--opt=value`.\n"
    "--password-prompt reads the password twice from standard input (two lines when it is\n"
    "not a terminal). --password-hash takes an Argon2 hash, or a legacy SHA-1 hex hash which\n"
    "is stored wrapped in Argon2id. --password shows the password to other users of the\n"
    "machine; avoid it.\n";

/// The command line, before anything is read from standard input.
struct CreateUserOptions {
    db::UserUpdate user;
    bool help = false;
    bool passwordPrompt = false;
    std::optional<std::string> password;
    std::optional<std::string> passwordHash;
    std::vector<std::string> passwordOptions; ///< as given, for the conflict message
};

// Reads one line from stdin, without echo when it is a terminal.
std::optional<std::string> readSecret(const char* prompt)
{
    bool tty = ::isatty(STDIN_FILENO);
    termios old{};
    if (tty) {
        std::fprintf(stderr, "%s", prompt);
        ::tcgetattr(STDIN_FILENO, &old);
        termios quiet = old;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    }
    std::string line;
    bool ok = static_cast<bool>(std::getline(std::cin, line));
    if (tty) {
        ::tcsetattr(STDIN_FILENO, TCSANOW, &old);
        std::fprintf(stderr, "\n");
    }
    if (!ok) return std::nullopt;
    return line;
}

// Asks twice whatever standard input is, as Hydra does: a script piping the password in
// must repeat it, so a truncated or mistyped input never becomes the password.
std::string promptPassword()
{
    auto pw = readSecret("Password: ");
    if (!pw) throw Error("--password-prompt: no password on standard input");
    auto again = readSecret("Password (again): ");
    if (!again)
        throw Error("--password-prompt: the password was given once; standard input must repeat it on a "
                    "second line to confirm it");
    if (*again != *pw) throw Error("--password-prompt: the two passwords differ");
    if (pw->empty()) throw Error("--password-prompt: the password must not be empty");
    return hashPassword(*pw);
}

std::string joinOptions(const std::vector<std::string>& names)
{
    std::string out;
    for (size_t i = 0; i < names.size(); ++i)
        out += (i == 0 ? "" : i + 1 == names.size() ? " and " : ", ") + names[i];
    return out;
}

void notePasswordOption(CreateUserOptions& o, const std::string& name)
{
    if (std::find(o.passwordOptions.begin(), o.passwordOptions.end(), name) == o.passwordOptions.end())
        o.passwordOptions.push_back(name);
}

// One option, given as `--name value`, `--name=value` or `--name`; false if unknown.
bool parseOption(CreateUserOptions& o, Args& args, const std::string& name,
                 std::optional<std::string> inlineValue)
{
    auto value = [&] { return inlineValue ? *inlineValue : args.value(name); };
    auto flag = [&] {
        if (inlineValue) throw UsageError("option " + name + " takes no value");
        return true;
    };
    db::UserUpdate& u = o.user;
    if (name == "--full-name")
        u.fullName = value();
    else if (name == "--email-address")
        u.emailAddress = value();
    else if (name == "--type")
        u.type = value();
    else if (name == "--rename-from")
        u.renameFrom = value();
    else if (name == "--role")
        u.roles.push_back(value());
    else if (name == "--wipe-roles")
        u.wipeRoles = flag();
    else if (name == "--help")
        o.help = flag();
    else if (name == "--password-prompt")
        o.passwordPrompt = flag();
    else if (name == "--password")
        o.password = value();
    else if (name == "--password-hash")
        o.passwordHash = value();
    else
        return false;
    if (name.starts_with("--password")) notePasswordOption(o, name);
    return true;
}

// Options and the user name in any order, as Hydra's getopt allows; `--` ends the options.
CreateUserOptions parseCreateUser(Args& args)
{
    CreateUserOptions o;
    std::vector<std::string> names;
    bool optionsEnded = false;
    while (!args.done()) {
        std::string arg = args.next();
        if (optionsEnded || !arg.starts_with("-") || arg == "-") {
            names.push_back(arg);
        } else if (arg == "--") {
            optionsEnded = true;
        } else {
            auto eq = arg.find('=');
            std::optional<std::string> inlineValue;
            if (eq != std::string::npos) inlineValue = arg.substr(eq + 1);
            if (!parseOption(o, args, arg.substr(0, eq), inlineValue))
                throw UsageError("unknown option '" + arg.substr(0, eq) + "'");
        }
    }
    if (o.help) return o;
    if (names.size() != 1) throw UsageError("exactly one user name is required");
    o.user.name = names[0];
    if (o.passwordOptions.size() > 1)
        throw Error("{} cannot be used together: give only one way of setting the password",
                    joinOptions(o.passwordOptions));
    return o;
}

// Read last, once the command line is known to be valid, so a refused command never
// consumes standard input.
std::optional<std::string> passwordHashFor(const CreateUserOptions& o)
{
    if (o.passwordPrompt) return promptPassword();
    if (o.password) {
        std::fprintf(stderr, "hydra create-user: warning: --password shows the password to every user of "
                             "this machine; prefer --password-prompt\n");
        return hashPassword(*o.password);
    }
    if (!o.passwordHash) return std::nullopt;
    if (!isSupportedPasswordHash(*o.passwordHash))
        throw Error("--password-hash: not an Argon2 hash ($argon2id$...) nor a legacy SHA-1 hex hash");
    // As Hydra does: never store a bare SHA-1 hash; the wrapped one still accepts the password.
    if (isLegacySha1Hash(*o.passwordHash)) return upgradeLegacySha1Hash(*o.passwordHash);
    return o.passwordHash;
}

} // namespace

int cmdCreateUser(Args& args)
{
    CreateUserOptions o = parseCreateUser(args);
    if (o.help) {
        std::fputs(helpText, stdout);
        return 0;
    }
    Site site = Site::fromEnvironment();
    auto conn = site.connect(/*startPrivate=*/true);
    if (db::schemaVersion(*conn) == 0)
        throw Error("the database has no hydra schema; run `hydra init` first");
    o.user.passwordHash = passwordHashFor(o);
    bool created = db::upsertUser(*conn, o.user);
    if (o.user.renameFrom && *o.user.renameFrom != o.user.name)
        std::printf("renamed user '%s' to '%s'\n", o.user.renameFrom->c_str(), o.user.name.c_str());
    else
        std::printf("%s user '%s'\n", created ? "created" : "updated", o.user.name.c_str());
    return 0;
}

} // namespace hydra::cli

#include "cli/commands.hh"
#include "cli/site.hh"
#include "db/schema.hh"
#include "db/users.hh"
#include "util/error.hh"
#include "util/password.hh"

#include <cstdio>
#include <iostream>
#include <termios.h>
#include <unistd.h>

namespace hydra::cli {

namespace {

// Reads one line from stdin, without echo when it is a terminal.
std::string readSecret(const char* prompt)
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
    if (!ok) throw Error("no password given on standard input");
    return line;
}

std::string promptPassword()
{
    std::string pw = readSecret("Password: ");
    if (::isatty(STDIN_FILENO) && readSecret("Password (again): ") != pw) throw Error("the passwords differ");
    if (pw.empty()) throw Error("the password must not be empty");
    return hashPassword(pw);
}

db::UserUpdate parseCreateUser(Args& args)
{
    db::UserUpdate u;
    u.name = args.next();
    if (u.name.starts_with("-")) throw UsageError("the first argument must be the user name");
    while (!args.done()) {
        std::string opt = args.next();
        if (opt == "--full-name")
            u.fullName = args.value(opt);
        else if (opt == "--email-address")
            u.emailAddress = args.value(opt);
        else if (opt == "--type")
            u.type = args.value(opt);
        else if (opt == "--role")
            u.roles.push_back(args.value(opt));
        else if (opt == "--wipe-roles")
            u.wipeRoles = true;
        else if (opt == "--password-prompt")
            u.passwordHash = promptPassword();
        else if (opt == "--password") {
            std::fprintf(stderr, "hydra create-user: warning: --password shows the password to every user of "
                                 "this machine; prefer --password-prompt\n");
            u.passwordHash = hashPassword(args.value(opt));
        } else if (opt == "--password-hash") {
            u.passwordHash = args.value(opt);
            if (!isSupportedPasswordHash(*u.passwordHash))
                throw Error(
                    "--password-hash: not an Argon2 hash ($argon2id$...) nor a legacy SHA-1 hex hash");
        } else
            throw UsageError("unknown option '" + opt + "'");
    }
    return u;
}

} // namespace

int cmdCreateUser(Args& args)
{
    db::UserUpdate u = parseCreateUser(args);
    Site site = Site::fromEnvironment();
    auto conn = site.connect(/*startPrivate=*/true);
    if (db::schemaVersion(*conn) == 0)
        throw Error("the database has no hydra schema; run `hydra init` first");
    bool created = db::upsertUser(*conn, u);
    std::printf("%s user '%s'\n", created ? "created" : "updated", u.name.c_str());
    return 0;
}

} // namespace hydra::cli

#include "cli/args.hh"

namespace hydra::cli {

std::string Args::next()
{
    if (done()) throw UsageError("missing argument");
    return args_[pos_++];
}

std::string Args::value(const std::string& option)
{
    if (done()) throw UsageError("option " + option + " needs a value");
    return args_[pos_++];
}

void Args::expectEnd() const
{
    if (!done()) throw UsageError("unexpected argument '" + args_[pos_] + "'");
}

} // namespace hydra::cli

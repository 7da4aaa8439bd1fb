#include "notify/status_text.hh"

namespace hydra::notify {

std::string showStatus(int buildStatus)
{
    switch (buildStatus) {
    case 0: return "Success";
    case 2: return "Dependency failed";
    case 4: return "Cancelled";
    case 6: return "Failed with output";
    default: return "Failed";
    }
}

} // namespace hydra::notify

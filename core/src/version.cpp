#include "httpower/version.hpp"

namespace httpower {

std::string_view version() noexcept { return "0.1.0"; }

}  // namespace httpower

#pragma once

#include <string_view>

namespace httpower {

// The project version, as printed by `httpower --version` and the Server header.
std::string_view version() noexcept;

}  // namespace httpower

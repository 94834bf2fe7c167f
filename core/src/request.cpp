#include "httpower/request.hpp"

namespace httpower {

std::string_view to_string(Method m) noexcept {
  switch (m) {
    case Method::kGet: return "GET";
    case Method::kHead: return "HEAD";
    case Method::kOptions: return "OPTIONS";
    case Method::kPost: return "POST";
    case Method::kPut: return "PUT";
    case Method::kDelete: return "DELETE";
    case Method::kPatch: return "PATCH";
    case Method::kTrace: return "TRACE";
    case Method::kConnect: return "CONNECT";
    case Method::kUnknown: break;
  }
  return "UNKNOWN";
}

}  // namespace httpower

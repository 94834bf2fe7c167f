#pragma once
// Whether this build runs under AddressSanitizer or ThreadSanitizer (g++ defines
// __SANITIZE_*, clang answers __has_feature): memory figures and address-space limits mean
// nothing there, so the checks that rest on them only print.

namespace httpower::testsupport {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
inline constexpr bool kSanitized = true;
#else
inline constexpr bool kSanitized = false;
#endif
#else
inline constexpr bool kSanitized = false;
#endif

}  // namespace httpower::testsupport

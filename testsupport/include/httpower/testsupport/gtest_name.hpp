#pragma once
// The running GoogleTest test as "Suite.Name", for watchdog and failure messages. Only for
// targets that link GoogleTest.
#include <gtest/gtest.h>

#include <string>

namespace httpower::testsupport {

inline std::string current_test_name() {
  const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
  if (info == nullptr) return "(no test running)";
  return std::string(info->test_suite_name()) + "." + info->name();
}

}  // namespace httpower::testsupport

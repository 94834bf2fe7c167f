#include "httpower/bounded_queue.hpp"

#include <gtest/gtest.h>

namespace httpower {
namespace {

TEST(BoundedQueue, Q2_SequentialFifo) {
  BoundedQueue<int> q(3);
  ASSERT_EQ(q.push(1), QueueStatus::kOk);
  ASSERT_EQ(q.push(2), QueueStatus::kOk);
  EXPECT_EQ(*q.pop().item, 1);
  EXPECT_EQ(*q.pop().item, 2);
  EXPECT_TRUE(q.check_invariants());
}

}  // namespace
}  // namespace httpower

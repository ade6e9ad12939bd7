// The data-parallel order: the ranks' micro-batches of a step are exactly the single-process
// batch of W·b, shuffled the same way every epoch; a short last batch is padded; a checkpoint
// from another world size is refused with the reason.
#include <gtest/gtest.h>

#include "framework/distributed/sharded_sampler.h"
#include "tests/support/user_error.h"

namespace attnlab::distributed {
namespace {

TEST(ShardedSampler, RanksTogetherReadTheSingleProcessBatch) {
  for (bool drop_last : {true, false}) {
    train::EpochSampler single(50, 8, /*shuffle=*/true, drop_last, 7);
    ShardedSampler r0(50, 4, true, drop_last, 7, 0, 2), r1(50, 4, true, drop_last, 7, 1, 2);
    for (int step = 0; step < 20; ++step) {  // several epochs
      std::vector<int64_t> both = r0.next();
      const auto b = r1.next();
      both.insert(both.end(), b.begin(), b.end());
      const auto expected = single.next();
      if (expected.size() == 8) {
        EXPECT_EQ(both, expected) << "step " << step;
      } else {  // the short last batch: padded from its own start, every rank still gets 4
        ASSERT_EQ(expected.size(), 2u);
        EXPECT_EQ(both, (std::vector<int64_t>{expected[0], expected[1], expected[0], expected[1], expected[0],
                                              expected[1], expected[0], expected[1]}));
      }
    }
  }
}

TEST(ShardedSampler, ResumesExactlyAndRefusesAnotherWorldSize) {
  ShardedSampler a(40, 4, true, true, 3, 1, 2);
  for (int i = 0; i < 7; ++i) a.next();
  ShardedSampler b(40, 4, true, true, 3, 1, 2);
  b.load_state(a.state());
  for (int i = 0; i < 10; ++i) EXPECT_EQ(a.next(), b.next());
  ShardedSampler c(40, 4, true, true, 3, 0, 4);
  EXPECT_NE(testing::user_error_of([&] { c.load_state(a.state()); }).find("written by a run of 2 process(es); this run has 4"),
            std::string::npos);
  train::EpochSampler old(40, 4, true, true, 3);  // a single-process checkpoint without world_size
  ShardedSampler d(40, 4, true, true, 3, 0, 1);
  d.load_state(old.state());
  EXPECT_EQ(d.next(), old.next());
}

}  // namespace
}  // namespace attnlab::distributed

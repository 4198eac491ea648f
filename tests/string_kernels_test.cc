// String kernels through the kernel harness: StringJoin's broadcasting of
// scalars and its separator, and TensorFlow's shard file names.
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "util/kernel_harness.h"

namespace ckpt {
namespace {

using ::ckpt::testing::AttrList;
using ::ckpt::testing::KernelInput;
using ::ckpt::testing::RunKernel;
using ::ckpt::testing::Scalar;
using ::ckpt::testing::StringTensor;
using ::ckpt::testing::Values;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

Tensor Str(const std::string& s) { return StringTensor(TensorShape(), {s}); }

Tensor Run1(const std::string& op, std::vector<KernelInput> inputs,
            const AttrList& attrs = AttrList()) {
  auto out = RunKernel(op, attrs, std::move(inputs));
  EXPECT_TRUE(out.ok()) << op << ": " << out.status();
  if (!out.ok() || out->empty()) return Tensor();
  return (*out)[0];
}

TEST(StringKernelsTest, StringJoinScalars) {
  Tensor j = Run1("StringJoin", {Str("model"), Str(".ckpt")});
  EXPECT_EQ(j.shape(), TensorShape());
  EXPECT_THAT(Values<std::string>(j), ElementsAre("model.ckpt"));
  Tensor sep = Run1("StringJoin", {Str("a"), Str(""), Str("c")}, AttrList().Str("separator", "/"));
  EXPECT_THAT(Values<std::string>(sep), ElementsAre("a//c"));
}

TEST(StringKernelsTest, StringJoinBroadcastsScalars) {
  Tensor names = StringTensor(TensorShape({3}), {"x", "y", "z"});
  Tensor j = Run1("StringJoin", {Str("pre_"), names, Str("_"), names},
                  AttrList().Str("separator", "-"));
  EXPECT_EQ(j.shape(), TensorShape({3}));
  EXPECT_THAT(Values<std::string>(j), ElementsAre("pre_-x-_-x", "pre_-y-_-y", "pre_-z-_-z"));
  Tensor m = Run1("StringJoin", {StringTensor(TensorShape({2, 1}), {"p", "q"}),
                                 StringTensor(TensorShape({2, 1}), {"1", "2"})});
  EXPECT_EQ(m.shape(), TensorShape({2, 1}));
  EXPECT_THAT(Values<std::string>(m), ElementsAre("p1", "q2"));
  // Bytes pass through untouched, NULs included.
  Tensor bin = Run1("StringJoin", {Str(std::string("a\0", 2)), Str("b")});
  EXPECT_EQ(Values<std::string>(bin)[0], std::string("a\0b", 3));
}

TEST(StringKernelsTest, StringJoinRefusesMismatchedShapes) {
  absl::Status st = RunKernel("StringJoin", AttrList(),
                              {StringTensor(TensorShape({2}), {"a", "b"}),
                               StringTensor(TensorShape({3}), {"c", "d", "e"})})
                        .status();
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(st.message()), HasSubstr("[2] vs. [3]"));
}

TEST(StringKernelsTest, ShardedFilenameAndSpec) {
  Tensor f = Run1("ShardedFilename", {Str("save/model"), Scalar<int32_t>(1), Scalar<int32_t>(4)});
  EXPECT_THAT(Values<std::string>(f), ElementsAre("save/model-00001-of-00004"));
  Tensor big = Run1("ShardedFilename", {Str("b"), Scalar<int32_t>(123456), Scalar<int32_t>(200000)});
  EXPECT_THAT(Values<std::string>(big), ElementsAre("b-123456-of-200000"));
  Tensor spec = Run1("ShardedFilespec", {Str("/tmp/m.ckpt_temp"), Scalar<int32_t>(2)});
  EXPECT_THAT(Values<std::string>(spec), ElementsAre(std::string("/tmp/m.ckpt_temp-") +
                                                     std::string(5, '?') + "-of-00002"));
  EXPECT_EQ(RunKernel("ShardedFilename", AttrList(),
                      {StringTensor(TensorShape({1}), {"x"}), Scalar<int32_t>(0), Scalar<int32_t>(1)})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace ckpt

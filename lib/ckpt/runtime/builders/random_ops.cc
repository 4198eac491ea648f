// Random builders, with TensorFlow's seeding rules (random_seed.get_seed):
//
//   graph seed | op seed | (seed, seed2) attrs
//   -----------+---------+-------------------------------------------------
//   none       | none    | (0, 0): the kernel seeds itself nondeterministically
//   none       | s       | (87654321, s)
//   g          | none    | (g, id of the graph's last node)
//   g          | s       | (g, s)
//
// Seeds are reduced modulo 2^31 - 1, and a resulting (0, 0) becomes
// (0, 2^31 - 1) so that a seeded op never turns nondeterministic. The node
// names are those of random_ops.py: "random_normal/shape", ".../mean",
// ".../stddev", ".../RandomStandardNormal", ".../mul", and the result
// "random_normal" itself.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "ckpt/runtime/builders/internal_ops.h"
#include "absl/strings/str_cat.h"
#include "ckpt/runtime/builders/op_builder.h"
#include "ckpt/runtime/ops.h"

namespace ckpt {
namespace ops {
namespace {

using runtime::OpBuilder;

constexpr int64_t kMaxInt32 = 2147483647;       // 2^31 - 1
constexpr int64_t kDefaultGraphSeed = 87654321;  // random_seed.DEFAULT_GRAPH_SEED

int64_t TruncateSeed(int64_t seed) {
  int64_t r = seed % kMaxInt32;
  return r < 0 ? r + kMaxInt32 : r;
}

// Must run after the op's constant arguments exist: the implicit op seed is
// the id of the last node built.
std::pair<int64_t, int64_t> GetSeed(Graph* g, int64_t op_seed) {
  std::pair<int64_t, int64_t> seeds;
  if (g->seed() != 0) {
    if (op_seed == 0) op_seed = g->NextOpSeed();
    seeds = {TruncateSeed(g->seed()), TruncateSeed(op_seed)};
  } else if (op_seed != 0) {
    seeds = {kDefaultGraphSeed, TruncateSeed(op_seed)};
  } else {
    return {0, 0};
  }
  if (seeds.first == 0 && seeds.second == 0) seeds.second = kMaxInt32;
  return seeds;
}

bool CheckDType(const Scope& s, const char* fn, DType dtype) {
  if (dtype == DT_FLOAT || dtype == DT_DOUBLE || dtype == DT_HALF || dtype == DT_BFLOAT16) {
    return true;
  }
  s.UpdateStatus(absl::InvalidArgumentError(absl::StrCat(
      fn, ": dtype must be a floating point type, not ", DTypeName(dtype))));
  return false;
}

// The shape constant, the random op (output shape `shape`) and its seeds.
Output RandomOp(const OpBuilder& b, const char* op, Output shape_t, const TensorShape& shape,
                DType dtype, int64_t seed) {
  std::pair<int64_t, int64_t> seeds = GetSeed(b.scope().graph(), seed);
  OpBuilder r(b.ArgScope(op), op, op);
  if (!r.ok()) return Output();
  r.Input(shape_t)
      .Attr("dtype", AttrType(dtype))
      .Attr("seed", AttrInt(seeds.first))
      .Attr("seed2", AttrInt(seeds.second));
  return r.FinishOutput(PartialShape(shape));
}

std::vector<int64_t> Dims(const TensorShape& shape) { return shape.dims(); }

Output NormalLike(const Scope& s, const char* fn, const char* op, const TensorShape& shape,
                  float mean, float stddev, int64_t seed, DType dtype) {
  if (!s.ok() || !CheckDType(s, fn, dtype)) return Output();
  OpBuilder b(s, "Add", fn);
  Output shape_t = runtime::IntListConst(b.ArgScope("shape"), Dims(shape));
  Output mean_t = runtime::ScalarConst(b.ArgScope("mean"), dtype, mean);
  Output stddev_t = runtime::ScalarConst(b.ArgScope("stddev"), dtype, stddev);
  if (!b.ok()) return Output();
  Output rnd = RandomOp(b, op, shape_t, shape, dtype, seed);
  Output mul = Mul(b.ArgScope("mul"), rnd, stddev_t);
  return runtime::FinishBinary(b, mul, mean_t);
}

}  // namespace

Output RandomNormal(const Scope& s, const TensorShape& shape, float mean, float stddev,
                    int64_t seed, DType dtype) {
  return NormalLike(s, "random_normal", "RandomStandardNormal", shape, mean, stddev, seed,
                    dtype);
}

Output TruncatedNormal(const Scope& s, const TensorShape& shape, float mean, float stddev,
                       int64_t seed, DType dtype) {
  return NormalLike(s, "truncated_normal", "TruncatedNormal", shape, mean, stddev, seed, dtype);
}

Output RandomUniform(const Scope& s, const TensorShape& shape, float minval, float maxval,
                     int64_t seed, DType dtype) {
  if (!s.ok() || !CheckDType(s, "random_uniform", dtype)) return Output();
  OpBuilder b(s, "Add", "random_uniform");
  Output shape_t = runtime::IntListConst(b.ArgScope("shape"), Dims(shape));
  Output min_t = runtime::ScalarConst(b.ArgScope("min"), dtype, minval);
  Output max_t = runtime::ScalarConst(b.ArgScope("max"), dtype, maxval);
  if (!b.ok()) return Output();
  Output rnd = RandomOp(b, "RandomUniform", shape_t, shape, dtype, seed);
  Output range = Sub(b.ArgScope("sub"), max_t, min_t);
  Output mul = Mul(b.ArgScope("mul"), rnd, range);
  return runtime::FinishBinary(b, mul, min_t);
}

}  // namespace ops
}  // namespace ckpt

// Random kernels: RandomUniform ([0, 1)), RandomStandardNormal and
// TruncatedNormal (standard normal, values with |x| >= 2 redrawn), each
// producing dtype float, double, half or bfloat16 in the shape given by an
// int32/int64 vector input.
//
// The generator is Philox4x32-10 (Salmon et al., "Parallel random numbers:
// as easy as 1, 2, 3", SC 2011), and the way values are drawn from it is
// designed to match TensorFlow's CPU kernels, so that a graph with fixed
// seeds yields TensorFlow's numbers. That match is unverified (no TensorFlow
// here to compare against), and sin/cos/log come from this machine's libm,
// which may differ from another's in the last bit. What is designed to match:
//
// - Keying: seed and seed2 attrs -> key = seed (low word first), counter
//   words 2 and 3 = seed2, counter words 0 and 1 = 0.
// - Each Run reserves 256 counter steps per output element and starts from
//   the generator's state before that reservation; the state persists in the
//   kernel, so every Run draws new numbers.
// - Uniform float: 23 random mantissa bits under exponent 0, minus 1;
//   double: 20 + 32 bits from two words; half: 10 bits (bfloat16: 7 bits).
//   Four floats (or halfs) per Philox output, two doubles.
// - Normal: Box-Muller on two uniforms u1 (clamped below at 1e-7) and u2:
//   r = sqrt(-2 ln u1), x0 = r sin(2 pi u2), x1 = r cos(2 pi u2); float
//   arithmetic for float/half/bfloat16 (narrowed afterwards), double for
//   double (each uniform from two words).
// - Truncated normal: groups of 4 values (2 for double); group g starts at
//   counter step g * 256 (128 for double) from the Run's start and consumes
//   Philox words one at a time until the group is full.
//
// When seed and seed2 are both 0 the node has no seed: the session's default
// seed, when nonzero, is used with a hash of the node's name as seed2 (so
// that two unseeded ops do not draw the same stream); otherwise the seeds
// come from std::random_device.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "ckpt/runtime/kernel.h"
#include "ckpt/runtime/kernels/philox.h"
#include "ckpt/runtime/kernels/register.h"
#include "ckpt/status_macros.h"

namespace ckpt {
namespace runtime {
namespace {

// ---- distributions ----------------------------------------------------------

enum class Distribution { kUniform, kNormal, kTruncatedNormal };

// Fills out[0, n) from `gen` (the Run's starting state). Float-computed
// dtypes: float, half and bfloat16 (`narrow` turns the float into the
// output element).
template <typename Out, typename NarrowFn>
void FillFloatLike(Distribution dist, DType dtype, Philox gen, Out* out, int64_t n,
                   NarrowFn narrow) {
  constexpr int kGroup = 4;
  if (dist == Distribution::kTruncatedNormal) {
    const Philox base = gen;
    for (int64_t g = 0; g * kGroup < n; ++g) {
      Philox local = base;
      local.Skip(static_cast<uint64_t>(g) * 256);
      PhiloxWordStream words(&local);
      const int64_t count = std::min<int64_t>(kGroup, n - g * kGroup);
      int64_t filled = 0;
      while (filled < kGroup) {
        const uint32_t a = words.Next();
        const uint32_t b = words.Next();
        float f[2];
        BoxMullerFloat(a, b, &f[0], &f[1]);
        for (int k = 0; k < 2 && filled < kGroup; ++k) {
          if (std::fabs(f[k]) < 2.0f) {
            if (filled < count) out[g * kGroup + filled] = narrow(f[k]);
            ++filled;
          }
        }
      }
    }
    return;
  }
  for (int64_t base = 0; base < n; base += kGroup) {
    const Philox::Block s = gen.Next();
    float f[kGroup];
    if (dist == Distribution::kUniform) {
      for (int k = 0; k < kGroup; ++k) {
        if (dtype == DT_FLOAT) {
          f[k] = UnitFloat(s[k]);
        } else if (dtype == DT_HALF) {
          // 10 random mantissa bits: m / 1024, exact in half.
          f[k] = static_cast<float>(s[k] & 0x3ffu) / 1024.0f;
        } else {
          // 7 random mantissa bits: m / 128, exact in bfloat16.
          f[k] = static_cast<float>(s[k] & 0x7fu) / 128.0f;
        }
      }
    } else {
      BoxMullerFloat(s[0], s[1], &f[0], &f[1]);
      BoxMullerFloat(s[2], s[3], &f[2], &f[3]);
    }
    for (int k = 0; k < kGroup && base + k < n; ++k) out[base + k] = narrow(f[k]);
  }
}

void FillDouble(Distribution dist, Philox gen, double* out, int64_t n) {
  constexpr int kGroup = 2;
  if (dist == Distribution::kTruncatedNormal) {
    const Philox base = gen;
    for (int64_t g = 0; g * kGroup < n; ++g) {
      Philox local = base;
      local.Skip(static_cast<uint64_t>(g) * 128);
      PhiloxWordStream words(&local);
      const int64_t count = std::min<int64_t>(kGroup, n - g * kGroup);
      int64_t filled = 0;
      while (filled < kGroup) {
        const uint32_t a = words.Next(), b = words.Next(), c = words.Next(), d = words.Next();
        double v[2];
        BoxMullerDouble(a, b, c, d, &v[0], &v[1]);
        for (int k = 0; k < 2 && filled < kGroup; ++k) {
          if (std::fabs(v[k]) < 2.0) {
            if (filled < count) out[g * kGroup + filled] = v[k];
            ++filled;
          }
        }
      }
    }
    return;
  }
  for (int64_t base = 0; base < n; base += kGroup) {
    const Philox::Block s = gen.Next();
    double v[kGroup];
    if (dist == Distribution::kUniform) {
      v[0] = UnitDouble(s[0], s[1]);
      v[1] = UnitDouble(s[2], s[3]);
    } else {
      BoxMullerDouble(s[0], s[1], s[2], s[3], &v[0], &v[1]);
    }
    for (int k = 0; k < kGroup && base + k < n; ++k) out[base + k] = v[k];
  }
}

// 64-bit FNV-1a: a fixed, platform-independent hash for the seed of an
// unseeded node.
uint64_t Fnv1a(absl::string_view s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ull;
  }
  return h;
}

absl::StatusOr<int64_t> SeedAttr(const ::tensorflow::NodeDef& def, absl::string_view name) {
  if (def.attr().find(std::string(name)) == def.attr().end()) return 0;
  return GetIntAttr(def, name);
}

class RandomOp : public OpKernel {
 public:
  template <Distribution kDist>
  static absl::StatusOr<std::unique_ptr<OpKernel>> Create(const KernelConstruction& c) {
    CKPT_ASSIGN_OR_RETURN(DType dtype, GetTypeAttr(c.def, "dtype"));
    if (dtype != DT_FLOAT && dtype != DT_DOUBLE && dtype != DT_HALF && dtype != DT_BFLOAT16) {
      return absl::UnimplementedError(absl::StrCat(
          c.def.op(), " has no CPU kernel for dtype ", DTypeName(dtype)));
    }
    CKPT_ASSIGN_OR_RETURN(int64_t seed, SeedAttr(c.def, "seed"));
    CKPT_ASSIGN_OR_RETURN(int64_t seed2, SeedAttr(c.def, "seed2"));
    uint64_t s1 = static_cast<uint64_t>(seed), s2 = static_cast<uint64_t>(seed2);
    if (s1 == 0 && s2 == 0) {
      const uint64_t session_seed = c.state != nullptr ? c.state->default_seed() : 0;
      if (session_seed != 0) {
        s1 = session_seed;
        s2 = Fnv1a(c.def.name());
      } else {
        std::random_device rd;
        s1 = (uint64_t{rd()} << 32) | rd();
        s2 = (uint64_t{rd()} << 32) | rd();
      }
    }
    return std::unique_ptr<OpKernel>(new RandomOp(kDist, dtype, Philox(s1, s2)));
  }

  absl::Status Compute(KernelContext* ctx) override {
    const Tensor& shape_t = ctx->input(0);
    if (shape_t.shape().rank() != 1 ||
        (shape_t.dtype() != DT_INT32 && shape_t.dtype() != DT_INT64)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "shape must be an int32 or int64 vector, not ", shape_t.DebugString()));
    }
    std::vector<int64_t> dims;
    if (shape_t.dtype() == DT_INT32) {
      for (int32_t d : shape_t.flat<int32_t>()) dims.push_back(d);
    } else {
      for (int64_t d : shape_t.flat<int64_t>()) dims.push_back(d);
    }
    CKPT_ASSIGN_OR_RETURN(TensorShape shape, TensorShape::FromDims(dims));
    CKPT_ASSIGN_OR_RETURN(Tensor * out, ctx->allocate_output(0, dtype_, shape));
    const int64_t n = shape.num_elements();
    Philox start;
    {
      absl::MutexLock lock(&mu_);
      start = gen_;
      gen_.Skip(static_cast<uint64_t>(n) * 256);
    }
    switch (dtype_) {
      case DT_FLOAT:
        FillFloatLike(dist_, dtype_, start, out->mutable_flat<float>().data(), n,
                      [](float f) { return f; });
        break;
      case DT_HALF:
        FillFloatLike(dist_, dtype_, start, out->mutable_flat<uint16_t>().data(), n,
                      HalfFromFloat);
        break;
      case DT_BFLOAT16:
        FillFloatLike(dist_, dtype_, start, out->mutable_flat<uint16_t>().data(), n,
                      Bfloat16FromFloat);
        break;
      default:
        FillDouble(dist_, start, out->mutable_flat<double>().data(), n);
        break;
    }
    return absl::OkStatus();
  }

 private:
  RandomOp(Distribution dist, DType dtype, Philox gen) : dist_(dist), dtype_(dtype), gen_(gen) {}

  const Distribution dist_;
  const DType dtype_;
  absl::Mutex mu_;
  Philox gen_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

void RegisterRandomKernels(KernelRegistry* r) {
  r->Register("RandomUniform", RandomOp::Create<Distribution::kUniform>);
  r->Register("RandomStandardNormal", RandomOp::Create<Distribution::kNormal>);
  r->Register("TruncatedNormal", RandomOp::Create<Distribution::kTruncatedNormal>);
}

}  // namespace runtime
}  // namespace ckpt

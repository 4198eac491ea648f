// ckpt/runtime/optimizers.h — training, as TensorFlow 1.x's tf.train
// optimizers.
//
//   ckpt::GradientDescentOptimizer opt(0.1f);
//   CKPT_ASSIGN_OR_RETURN(ckpt::Operation train, opt.Minimize(root, loss));
//   ckpt::Session session(&graph);
//   ckpt::Operation init = ckpt::ops::GlobalVariablesInitializer(root);   // slots too
//   CKPT_RETURN_IF_ERROR(session.Run({}, {}, {init}).status());
//   CKPT_ASSIGN_OR_RETURN(std::vector<ckpt::Tensor> out,
//                         session.Run({{xs, x}, {ys, y}}, {loss}, {train}));  // one step
//
// Minimize(loss) = ComputeGradients (symbolic gradients of `loss` for each
// variable's reference, gated per op as TensorFlow's GATE_OP does) +
// ApplyGradients (one fused update op per variable, then a NoOp that groups
// them). The graph gets TensorFlow's names, so a `.meta` written from it
// reads like TensorFlow's own:
//
//   GradientDescent/learning_rate                  Const
//   GradientDescent/update_W1/ApplyGradientDescent
//   GradientDescent                                NoOp, the train op
//
// Slot variables (Momentum's accumulator, Adam's moments) are non-trainable
// variables in the graph's "variables" collection, initialized to zeros by
// "<slot>/Initializer/zeros" and named "<var>/Momentum", "<var>/Adam",
// "<var>/Adam_1"; Adam also keeps "beta1_power" and "beta2_power", which it
// multiplies by beta1 and beta2 after each step (Adam/mul, Adam/Assign,
// Adam/mul_1, Adam/Assign_1). Saving the variables collection therefore
// saves everything needed to resume training exactly. The train op is added
// to the graph's "train_op" collection.
//
// Learning rates and other hyperparameters are float32 constants
// ("Adam/beta1"); for variables of another floating dtype they are cast.
//
// Errors are returned and recorded in the scope. An optimizer object keeps
// its slots: use one object per model (Minimize may be called on it more
// than once; slots of a variable are made once). Not thread-safe.
#ifndef CKPT_RUNTIME_OPTIMIZERS_H_
#define CKPT_RUNTIME_OPTIMIZERS_H_

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "ckpt/runtime/graph.h"
#include "ckpt/runtime/ops.h"
#include "ckpt/runtime/scope.h"

namespace ckpt {

class Optimizer {
 public:
  virtual ~Optimizer();
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  const std::string& name() const { return name_; }

  // The gradient of `loss` for each variable of `var_list` (every trainable
  // variable of the graph when empty, in order of creation). A variable the
  // loss does not depend on gets an invalid gradient. InvalidArgument when
  // there is no variable, or one is not of a floating dtype.
  absl::StatusOr<std::vector<std::pair<Output, Var>>> ComputeGradients(
      const Scope& s, Output loss, std::vector<Var> var_list = {});

  // Makes the slots, then the update ops of the variables with a valid
  // gradient, in a "<name>" scope ("<name>_1" for a second call); returns
  // the NoOp that runs them all (named like the scope). InvalidArgument
  // when no variable has a gradient.
  absl::StatusOr<Operation> ApplyGradients(
      const Scope& s, const std::vector<std::pair<Output, Var>>& grads_and_vars);

  absl::StatusOr<Operation> Minimize(const Scope& s, Output loss,
                                     std::vector<Var> var_list = {});

  // The slot variable `slot_name` ("momentum"; Adam's "m", "v") made for
  // `var`, or an invalid Var.
  Var GetSlot(const Var& var, const std::string& slot_name) const;
  std::vector<std::string> GetSlotNames() const;

 protected:
  Optimizer(std::string name, bool use_locking);

  // Hooks, called in this order by ApplyGradients. `root` is a scope at
  // the graph's root without control dependencies (slots are variables of
  // their own, as TensorFlow makes them); `s` is the optimizer's scope;
  // `update` the "update_<var>" scope inside it.
  virtual absl::Status CreateSlots(const Scope& root, const std::vector<Var>& vars);
  virtual absl::Status Prepare(const Scope& s) = 0;
  virtual Output ApplyDense(const Scope& update, Output grad, const Var& var) = 0;
  // Groups the updates into the train op named `name` (the scope's name).
  virtual Operation Finish(const Scope& s, const std::vector<Operation>& update_ops,
                           const std::string& name);

  // The zero-initialized slot `slot_name` of `var`, made (as variable
  // "<var>/<op_name>", made unique) on first use.
  Var ZerosSlot(const Scope& root, const Var& var, const std::string& slot_name,
                const std::string& op_name);
  // A NoOp named exactly `name` depending on `deps` (the name a scope was
  // opened with, as TensorFlow's group(..., name=scope) does).
  static Operation GroupNamed(const Scope& s, const std::vector<Operation>& deps,
                              const std::string& name);
  // `value` cast to the variable's dtype (no node when it already is).
  static Output CastTo(const Scope& s, Output value, const Var& var);
  bool use_locking() const { return use_locking_; }

 private:
  std::string name_;
  bool use_locking_;
  std::map<std::string, std::map<std::string, Var>> slots_;  // slot -> variable -> slot var
};

// var -= learning_rate * grad
class GradientDescentOptimizer : public Optimizer {
 public:
  explicit GradientDescentOptimizer(float learning_rate, std::string name = "GradientDescent",
                                    bool use_locking = false);

 protected:
  absl::Status Prepare(const Scope& s) override;
  Output ApplyDense(const Scope& update, Output grad, const Var& var) override;

 private:
  float learning_rate_;
  Output lr_;
};

// accum = momentum * accum + grad; var -= learning_rate * accum (Nesterov:
// var -= learning_rate * (grad + momentum * accum)).
class MomentumOptimizer : public Optimizer {
 public:
  MomentumOptimizer(float learning_rate, float momentum, bool use_nesterov = false,
                    std::string name = "Momentum", bool use_locking = false);

 protected:
  absl::Status CreateSlots(const Scope& root, const std::vector<Var>& vars) override;
  absl::Status Prepare(const Scope& s) override;
  Output ApplyDense(const Scope& update, Output grad, const Var& var) override;

 private:
  float learning_rate_, momentum_;
  bool use_nesterov_;
  Output lr_, momentum_t_;
};

// Kingma & Ba's Adam as TensorFlow 1.x implements it: with t the step,
// lr_t = learning_rate * sqrt(1 - beta2^t) / (1 - beta1^t);
// m = beta1 * m + (1 - beta1) * grad; v = beta2 * v + (1 - beta2) * grad^2;
// var -= lr_t * m / (sqrt(v) + epsilon). beta1^t and beta2^t are the
// variables beta1_power and beta2_power.
class AdamOptimizer : public Optimizer {
 public:
  explicit AdamOptimizer(float learning_rate = 0.001f, float beta1 = 0.9f,
                         float beta2 = 0.999f, float epsilon = 1e-08f,
                         std::string name = "Adam", bool use_locking = false);

  // The step-power accumulators (invalid before the first ApplyGradients).
  Var beta1_power() const { return beta1_power_; }
  Var beta2_power() const { return beta2_power_; }

 protected:
  absl::Status CreateSlots(const Scope& root, const std::vector<Var>& vars) override;
  absl::Status Prepare(const Scope& s) override;
  Output ApplyDense(const Scope& update, Output grad, const Var& var) override;
  Operation Finish(const Scope& s, const std::vector<Operation>& update_ops,
                   const std::string& name) override;

 private:
  float learning_rate_, beta1_, beta2_, epsilon_;
  Var beta1_power_, beta2_power_;
  Output lr_, beta1_t_, beta2_t_, epsilon_t_;
};

}  // namespace ckpt

#endif  // CKPT_RUNTIME_OPTIMIZERS_H_

// Batch normalisation with Keras 3's formulas, per channel along `axis` (the other axes are
// reduced over):
//   y = (x - mean) / sqrt(variance + epsilon) * scale + offset
// Channels are x.shape[axis]; mean, variance, offset and scale are 1-D of that length (offset /
// scale may be undefined: 0 / 1). x must be float; the parameters are cast to x's dtype, as the
// Keras layer does.
#pragma once
#include "core/tensor.h"

namespace tl {

// keras.ops.batch_normalization: with given statistics (the layer's inference mode).
// Differentiable in x, mean, variance, offset and scale.
Tensor batch_normalization(const Tensor& x, const Tensor& mean, const Tensor& variance, int64_t axis = -1,
                           const Tensor& offset = Tensor(), const Tensor& scale = Tensor(), double epsilon = 1e-3);

// The training mode of keras.layers.BatchNormalization in one op: the batch's mean and biased
// variance over all axes but `axis` normalise x, and the moving statistics are updated in place,
// as Keras assigns them:
//   moving_mean     = moving_mean * momentum + mean * (1 - momentum)
//   moving_variance = moving_variance * momentum + variance * (1 - momentum)
// Doing the update inside the op makes it part of the op's recorded call, so a captured train
// step replays it. Differentiable in x, offset and scale (through the batch statistics too).
// moving_* are float tensors of shape (C,) that do not require grad; every check runs before
// anything is written. An empty batch is a ValueError (its statistics do not exist).
Tensor batch_norm_train(const Tensor& x, const Tensor& moving_mean, const Tensor& moving_variance, int64_t axis,
                        const Tensor& offset, const Tensor& scale, double momentum, double epsilon);

}  // namespace tl

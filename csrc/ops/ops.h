// The public, differentiable operations of the core. One header per area.
#pragma once
#include "ops/binary.h"
#include "ops/indexing.h"
#include "ops/join.h"
#include "ops/unary.h"
#include "ops/linalg.h"
#include "ops/nn.h"
#include "ops/reduce.h"
#include "ops/shape_ops.h"

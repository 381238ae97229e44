// The public C++ API of bertcpp. See docs/ARCHITECTURE.md; the C API is bertcpp.h.
#pragma once
#include "bertcpp/error.h"
#include "bertcpp/model.hpp"
#include "bertcpp/tensor.h"
#include "bertcpp/tokenizer.hpp"

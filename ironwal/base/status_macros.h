// File: ironwal/base/status_macros.h
//
// IRONWAL_RETURN_IF_ERROR and IRONWAL_ASSIGN_OR_RETURN for ironwal's own sources. The one
// definition is the public ironwal/status_macros.h; this header only forwards to it, so
// that internal code keeps including //ironwal/base.
//
// Thread-safety: macros; no state.
#ifndef IRONWAL_BASE_STATUS_MACROS_H_
#define IRONWAL_BASE_STATUS_MACROS_H_

#include "ironwal/status_macros.h"

#endif  // IRONWAL_BASE_STATUS_MACROS_H_

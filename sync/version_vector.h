#pragma once
// Version vectors tell "newer" from "concurrent". A vector is a repeated
// VectorEntry sorted by node_id with no duplicates (see record.proto).

#include <cstdint>
#include <string_view>

#include "google/protobuf/repeated_ptr_field.h"
#include "steersync/v1/record.pb.h"

namespace steersync::sync {

using Vector = google::protobuf::RepeatedPtrField<v1::VectorEntry>;

enum class Causality { kEqual, kBefore, kAfter, kConcurrent };

// How version vector `a` relates to `b`: kBefore when b has seen all of a.
Causality CompareVectors(const Vector& a, const Vector& b);

// Counter of `node_id` in `v`, 0 if absent.
uint64_t CounterOf(const Vector& v, std::string_view node_id);

// `into` := pointwise max(into, other); keeps the sort order.
void MergeInto(Vector& into, const Vector& other);

// Sets `node_id`'s counter to `counter`, inserting in sorted position.
void SetCounter(Vector& v, std::string_view node_id, uint64_t counter);

// True when sorted by node_id without duplicates.
bool IsWellFormed(const Vector& v);

}  // namespace steersync::sync

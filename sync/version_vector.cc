#include "sync/version_vector.h"

#include <algorithm>
#include <map>
#include <string>

namespace steersync::sync {

Causality CompareVectors(const Vector& a, const Vector& b) {
  bool a_greater = false;
  bool b_greater = false;
  int i = 0, j = 0;
  while (i < a.size() || j < b.size()) {
    int cmp;
    if (i == a.size()) cmp = 1;
    else if (j == b.size()) cmp = -1;
    else cmp = a[i].node_id().compare(b[j].node_id());
    if (cmp < 0) {
      if (a[i].counter() > 0) a_greater = true;
      ++i;
    } else if (cmp > 0) {
      if (b[j].counter() > 0) b_greater = true;
      ++j;
    } else {
      if (a[i].counter() > b[j].counter()) a_greater = true;
      if (a[i].counter() < b[j].counter()) b_greater = true;
      ++i;
      ++j;
    }
  }
  if (a_greater && b_greater) return Causality::kConcurrent;
  if (a_greater) return Causality::kAfter;
  if (b_greater) return Causality::kBefore;
  return Causality::kEqual;
}

uint64_t CounterOf(const Vector& v, std::string_view node_id) {
  for (const auto& e : v) {
    if (e.node_id() == node_id) return e.counter();
  }
  return 0;
}

void SetCounter(Vector& v, std::string_view node_id, uint64_t counter) {
  for (auto& e : v) {
    if (e.node_id() == node_id) {
      e.set_counter(counter);
      return;
    }
  }
  v.Add()->set_node_id(std::string(node_id));
  v[v.size() - 1].set_counter(counter);
  std::sort(v.begin(), v.end(), [](const v1::VectorEntry& x, const v1::VectorEntry& y) {
    return x.node_id() < y.node_id();
  });
}

void MergeInto(Vector& into, const Vector& other) {
  for (const auto& e : other) {
    if (e.counter() > CounterOf(into, e.node_id())) SetCounter(into, e.node_id(), e.counter());
  }
}

bool IsWellFormed(const Vector& v) {
  for (int i = 1; i < v.size(); ++i) {
    if (!(v[i - 1].node_id() < v[i].node_id())) return false;
  }
  return true;
}

}  // namespace steersync::sync

#pragma once
// Which records flow over which link, from the record's Audience.

#include <string_view>

#include "steersync/v1/record.pb.h"

namespace steersync::sync {

// True when node `self` should send `body` to its neighbour `peer` (its parent
// or one of its children):
//  - DOWN records go to a child inside the subtree of audience.root and, when
//    audience.units is non-empty, on the path to at least one listed unit;
//  - UP records go to the parent while the parent is at or below audience.root;
//  - AROUND records go down like DOWN (whole subtree of audience.root) and
//    up through every ancestor of audience.root.
bool AddressedTo(const v1::RecordBody& body, std::string_view self, std::string_view peer);

}  // namespace steersync::sync

#include "sync/routing.h"

#include "sync/node_path.h"

namespace steersync::sync {

bool AddressedTo(const v1::RecordBody& body, std::string_view self, std::string_view peer) {
  if (peer == self) return false;
  const auto& audience = body.audience();
  switch (audience.direction()) {
    case v1::Audience::DOWN: {
      if (!IsSelfOrAncestor(self, peer)) return false;           // peer is below us
      if (!IsSelfOrAncestor(audience.root(), peer) || peer == audience.root()) return false;
      if (audience.units().empty()) return true;
      for (const auto& unit : audience.units()) {
        if (IsSelfOrAncestor(peer, unit)) return true;           // peer is on the path
      }
      return false;
    }
    case v1::Audience::UP:
      return IsSelfOrAncestor(peer, self) && IsSelfOrAncestor(audience.root(), peer);
    case v1::Audience::AROUND:
      if (IsSelfOrAncestor(self, peer)) {
        return IsSelfOrAncestor(audience.root(), peer) && peer != audience.root();
      }
      // Up every ancestor of the writer: all of them may judge its acts.
      return IsSelfOrAncestor(self, audience.root()) && peer == ParentOf(self);
    case v1::Audience::LOCAL:
    default:
      return false;
  }
}

}  // namespace steersync::sync

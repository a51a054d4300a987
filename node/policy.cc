#include "node/policy.h"

#include "sync/node_path.h"
#include "sync/routing.h"

namespace steersync::node {
namespace {

sync::Admission Refuse(std::string code, std::string detail) {
  return sync::Admission{false, std::move(code), std::move(detail)};
}

// The unit the payload says wrote it, or an error admission.
sync::Admission CheckPayload(const v1::RecordBody& body) {
  const std::string& writer = body.version().writer();
  auto mismatch = [&](const std::string& named) {
    return Refuse("ISSUER_MISMATCH",
                  "payload names unit '" + named + "' but the version was written by '" + writer + "'");
  };
  switch (body.kind()) {
    case v1::DIRECTIVE: {
      v1::Directive d;
      if (!d.ParseFromString(body.payload())) return Refuse("MALFORMED_PAYLOAD", "not a Directive");
      if (d.issuer() != writer) return mismatch(d.issuer());
      if (body.audience().direction() != v1::Audience::DOWN) {
        return Refuse("WRONG_DIRECTION", "a directive only flows down");
      }
      if (body.audience().root() != writer) {
        return Refuse("NOT_ADDRESSED", "a directive addresses only its issuer's subtree");
      }
      break;
    }
    case v1::REPORT: {
      v1::Report r;
      if (!r.ParseFromString(body.payload())) return Refuse("MALFORMED_PAYLOAD", "not a Report");
      if (r.from_unit() != writer) return mismatch(r.from_unit());
      if (body.audience().direction() != v1::Audience::UP) {
        return Refuse("WRONG_DIRECTION", "a report only flows up");
      }
      break;
    }
    case v1::ACKNOWLEDGEMENT: {
      v1::Acknowledgement a;
      if (!a.ParseFromString(body.payload())) {
        return Refuse("MALFORMED_PAYLOAD", "not an Acknowledgement");
      }
      if (a.unit() != writer) return mismatch(a.unit());
      if (body.audience().direction() != v1::Audience::UP) {
        return Refuse("WRONG_DIRECTION", "an acknowledgement only flows up");
      }
      break;
    }
    case v1::REVOCATION_LIST: {
      v1::RevocationList r;
      if (!r.ParseFromString(body.payload()) || r.crl().empty()) {
        return Refuse("MALFORMED_PAYLOAD", "not a RevocationList");
      }
      if (body.audience().direction() != v1::Audience::DOWN || body.audience().root() != writer) {
        return Refuse("WRONG_DIRECTION", "a revocation list flows down its publisher's subtree");
      }
      break;
    }
    default:
      return Refuse("UNKNOWN_KIND", "record kind " + std::to_string(body.kind()));
  }
  if (body.audience().direction() == v1::Audience::UP &&
      !(sync::IsSelfOrAncestor(body.audience().root(), writer) && body.audience().root() != writer)) {
    return Refuse("NOT_ADDRESSED", "an upward record must be addressed to an ancestor of its writer");
  }
  return {};
}

}  // namespace

sync::Admission Admit(std::string_view self, std::string_view from_peer,
                      const v1::RecordBody& body) {
  const std::string& writer = body.version().writer();
  if (!sync::IsValidNodeId(writer)) return Refuse("BAD_WRITER", "writer '" + writer + "'");
  if (body.id().rfind(writer + "/", 0) != 0) {
    return Refuse("ID_NOT_OWNED", "id '" + body.id() + "' is not under writer '" + writer + "/'");
  }
  if (sync::Admission a = CheckPayload(body); !a.admitted) return a;

  if (from_peer.empty()) {
    if (writer != self) return Refuse("FOREIGN_WRITER", "a node writes only in its own name");
    return {};
  }
  if (from_peer == sync::ParentOf(self)) {
    if (body.audience().direction() != v1::Audience::DOWN) {
      return Refuse("WRONG_DIRECTION", "only downward records come from the parent");
    }
    if (!sync::IsSelfOrAncestor(writer, from_peer)) {
      return Refuse("FOREIGN_WRITER", "'" + writer + "' is not the parent or above it");
    }
  } else if (sync::ParentOf(from_peer) == self) {
    if (body.audience().direction() != v1::Audience::UP) {
      return Refuse("WRONG_DIRECTION", "only upward records come from a child");
    }
    if (!sync::IsSelfOrAncestor(from_peer, writer)) {
      return Refuse("FOREIGN_WRITER",
                    "'" + writer + "' is not in the subtree of child '" + std::string(from_peer) + "'");
    }
  } else {
    return Refuse("FOREIGN_WRITER", "'" + std::string(from_peer) + "' is not a neighbour");
  }
  if (!sync::AddressedTo(body, from_peer, self)) {
    return Refuse("NOT_ADDRESSED", "the record's audience does not include this node");
  }
  return {};
}

}  // namespace steersync::node

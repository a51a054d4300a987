// Attachments (issue 12 item 1): chunking, the shape of a signed descriptor,
// the check of an arriving chunk, and the receiving side of one stream.
#include "sync/attachments.h"

#include <gtest/gtest.h>

#include "steersync/v1/record.pb.h"

namespace steersync::sync {
namespace {

std::string Bytes(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>(i * 31 + i / 97);
  return s;
}

v1::RecordBody Report(const std::vector<v1::Attachment>& attachments) {
  v1::RecordBody body;
  body.set_id("vn/quang-ngai/tinh-phong/r/1");
  body.set_kind(v1::REPORT);
  for (const auto& a : attachments) *body.add_attachments() = a;
  return body;
}

TEST(AttachmentsTest, ChunksCoverTheFileAndOnlyTheLastIsShort) {
  EXPECT_EQ(ChunkCount(1), 1u);
  EXPECT_EQ(ChunkCount(kAttachmentChunkBytes), 1u);
  EXPECT_EQ(ChunkCount(kAttachmentChunkBytes + 1), 2u);
  EXPECT_EQ(ChunkCount(20 << 20), 80u);
  EXPECT_EQ(ChunkSize(kAttachmentChunkBytes + 1, 0), kAttachmentChunkBytes);
  EXPECT_EQ(ChunkSize(kAttachmentChunkBytes + 1, 1), 1u);
  EXPECT_EQ(ChunkSize(kAttachmentChunkBytes + 1, 2), 0u);
  // A chunk is one frame, far below the limit of one sync frame.
  EXPECT_LT(kAttachmentChunkBytes + 1024, static_cast<uint64_t>(4 << 20));
}

TEST(AttachmentsTest, ADescriptorNamesTheFilesHashSizeAndEachChunksHash) {
  const std::string content = Bytes(600 << 10);
  const v1::Attachment a = DescribeAttachment("ke-hoach.pdf", content);
  EXPECT_EQ(a.name(), "ke-hoach.pdf");
  EXPECT_EQ(a.sha256(), Sha256Of(content));
  EXPECT_EQ(a.size(), content.size());
  ASSERT_EQ(a.chunk_sha256_size(), 3);
  EXPECT_EQ(a.chunk_sha256(2), Sha256Of(content.substr(2 * kAttachmentChunkBytes)));
  EXPECT_TRUE(CheckAttachments(Report({a})).admitted);
  EXPECT_EQ(HexOf(Sha256Of("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(AttachmentsTest, AChunkMatchesOnlyWithItsSignedHashAndSize) {
  const std::string content = Bytes(300 << 10);
  const v1::Attachment a = DescribeAttachment("a.pdf", content);
  const std::string first = content.substr(0, kAttachmentChunkBytes);
  EXPECT_TRUE(ChunkMatches(a, 0, first));
  EXPECT_TRUE(ChunkMatches(a, 1, content.substr(kAttachmentChunkBytes)));
  std::string tampered = first;
  tampered[7] ^= 1;
  EXPECT_FALSE(ChunkMatches(a, 0, tampered));
  EXPECT_FALSE(ChunkMatches(a, 1, first)) << "another chunk's bytes";
  EXPECT_FALSE(ChunkMatches(a, 0, first + "x")) << "longer than its chunk";
  EXPECT_FALSE(ChunkMatches(a, 2, "")) << "past the end";
}

TEST(AttachmentsTest, MalformedDescriptorsAreRefusedAsBadAttachment) {
  const v1::Attachment good = DescribeAttachment("a.pdf", Bytes(1000));
  auto refused = [](const v1::RecordBody& body) {
    Admission a = CheckAttachments(body);
    return !a.admitted && a.reason_code == "BAD_ATTACHMENT";
  };
  v1::Attachment bad = good;
  bad.set_name("../etc/passwd");
  EXPECT_TRUE(refused(Report({bad})));
  bad.set_name(".hidden");
  EXPECT_TRUE(refused(Report({bad})));
  bad.set_name("a\x1b[31m.pdf");
  EXPECT_TRUE(refused(Report({bad})));
  bad.set_name("");
  EXPECT_TRUE(refused(Report({bad})));
  EXPECT_TRUE(refused(Report({good, good}))) << "two files of one name";
  bad = good;
  bad.set_sha256("short");
  EXPECT_TRUE(refused(Report({bad})));
  bad = good;
  bad.set_size(0);
  EXPECT_TRUE(refused(Report({bad})));
  bad = good;
  bad.set_size(kMaxAttachmentBytes + 1);
  EXPECT_TRUE(refused(Report({bad})));
  bad = good;
  bad.add_chunk_sha256(std::string(32, 'x'));
  EXPECT_TRUE(refused(Report({bad}))) << "more chunk hashes than chunks";
  bad = good;
  bad.set_chunk_sha256(0, "short");
  EXPECT_TRUE(refused(Report({bad})));
  std::vector<v1::Attachment> many;
  for (int i = 0; i <= kMaxAttachmentsPerRecord; ++i) {
    many.push_back(good);
    many.back().set_name("f" + std::to_string(i));
  }
  EXPECT_TRUE(refused(Report(many)));
  v1::RecordBody ack = Report({good});
  ack.set_kind(v1::ACKNOWLEDGEMENT);
  EXPECT_TRUE(refused(ack)) << "only directives and reports name files";
  v1::Attachment vietnamese = good;
  vietnamese.set_name("Kế hoạch số 1.pdf");
  EXPECT_TRUE(CheckAttachments(Report({vietnamese})).admitted);
}

v1::Chunk ChunkOf(const v1::Attachment& a, const std::string& content, uint32_t index) {
  v1::Chunk c;
  c.set_sha256(a.sha256());
  c.set_index(index);
  c.set_data(content.substr(index * kAttachmentChunkBytes, ChunkSize(content.size(), index)));
  return c;
}

std::vector<uint32_t> All(uint32_t n) {
  std::vector<uint32_t> v;
  for (uint32_t i = 0; i < n; ++i) v.push_back(i);
  return v;
}

TEST(ChunkFetcherTest, AsksAtMostAWindowAndOneMoreForEachChunkStored) {
  const std::string content = Bytes(5 * kAttachmentChunkBytes);
  const v1::Attachment a = DescribeAttachment("a.pdf", content);
  ChunkFetcher fetcher(2);
  fetcher.Want(a, All(5));
  std::vector<v1::SyncMessage> asked = fetcher.TakeRequests();
  ASSERT_EQ(asked.size(), 2u);
  EXPECT_EQ(asked[0].chunk_request().index(), 0u);
  EXPECT_EQ(asked[1].chunk_request().index(), 1u);
  EXPECT_TRUE(fetcher.TakeRequests().empty()) << "the window is full";
  EXPECT_EQ(fetcher.OnChunk(ChunkOf(a, content, 0)), ChunkFetcher::Verdict::kAccept);
  EXPECT_TRUE(fetcher.TakeRequests().empty()) << "an accepted chunk holds its slot until stored";
  fetcher.Stored(a.sha256(), 0);
  asked = fetcher.TakeRequests();
  ASSERT_EQ(asked.size(), 1u);
  EXPECT_EQ(asked[0].chunk_request().index(), 2u);
  EXPECT_EQ(fetcher.in_flight(), 2u);
}

TEST(ChunkFetcherTest, ResumesWithTheChunksStillMissing) {
  const std::string content = Bytes(4 * kAttachmentChunkBytes);
  const v1::Attachment a = DescribeAttachment("a.pdf", content);
  ChunkFetcher fetcher(8);
  fetcher.Want(a, {1, 3});  // 0 and 2 committed before a restart
  std::vector<v1::SyncMessage> asked = fetcher.TakeRequests();
  ASSERT_EQ(asked.size(), 2u);
  EXPECT_EQ(asked[0].chunk_request().index(), 1u);
  EXPECT_EQ(asked[1].chunk_request().index(), 3u);
}

TEST(ChunkFetcherTest, RefusesUnrequestedAndRepeatedChunks) {
  const std::string content = Bytes(3 * kAttachmentChunkBytes);
  const v1::Attachment a = DescribeAttachment("a.pdf", content);
  ChunkFetcher fetcher(1);
  EXPECT_EQ(fetcher.OnChunk(ChunkOf(a, content, 0)), ChunkFetcher::Verdict::kUnrequested)
      << "a file nobody named";
  fetcher.Want(a, All(3));
  fetcher.TakeRequests();
  EXPECT_EQ(fetcher.OnChunk(ChunkOf(a, content, 2)), ChunkFetcher::Verdict::kUnrequested)
      << "named, but not asked yet";
  EXPECT_EQ(fetcher.OnChunk(ChunkOf(a, content, 0)), ChunkFetcher::Verdict::kAccept);
  EXPECT_EQ(fetcher.OnChunk(ChunkOf(a, content, 0)), ChunkFetcher::Verdict::kUnrequested)
      << "the same chunk twice";
}

TEST(ChunkFetcherTest, ATamperedChunkEndsThatFilesFetchOnTheStreamButNotOthers) {
  const std::string content = Bytes(3 * kAttachmentChunkBytes);
  const std::string other_content = Bytes(1000);
  const v1::Attachment a = DescribeAttachment("a.pdf", content);
  const v1::Attachment b = DescribeAttachment("b.pdf", other_content);
  ChunkFetcher fetcher(2);
  fetcher.Want(a, All(3));
  fetcher.Want(b, All(1));
  fetcher.TakeRequests();
  v1::Chunk tampered = ChunkOf(a, content, 0);
  (*tampered.mutable_data())[0] ^= 1;
  v1::Chunk tampered_b = ChunkOf(b, other_content, 0);
  const bool a_asked = fetcher.wanted(a.sha256());
  ASSERT_TRUE(a_asked);
  EXPECT_EQ(fetcher.OnChunk(tampered), ChunkFetcher::Verdict::kTampered);
  EXPECT_FALSE(fetcher.wanted(a.sha256()));
  fetcher.Want(a, All(3));
  EXPECT_FALSE(fetcher.wanted(a.sha256())) << "not asked again on this stream";
  // The window it held goes to the other file.
  std::vector<v1::SyncMessage> asked = fetcher.TakeRequests();
  for (const v1::SyncMessage& m : asked) EXPECT_NE(m.chunk_request().sha256(), a.sha256());
  EXPECT_EQ(fetcher.OnChunk(ChunkOf(a, content, 1)), ChunkFetcher::Verdict::kUnrequested);
}

TEST(ChunkFetcherTest, APeersRefusalDropsTheFileOnThisStream) {
  const std::string content = Bytes(2 * kAttachmentChunkBytes);
  const v1::Attachment a = DescribeAttachment("a.pdf", content);
  ChunkFetcher fetcher(4);
  fetcher.Want(a, All(2));
  fetcher.TakeRequests();
  v1::ChunkRefused refused;
  refused.set_sha256(a.sha256());
  refused.set_index(0);
  refused.set_reason_code("NOT_NAMED");
  EXPECT_TRUE(fetcher.OnRefused(refused));
  EXPECT_FALSE(fetcher.OnRefused(refused)) << "not asked any more";
  EXPECT_EQ(fetcher.in_flight(), 0u);
  EXPECT_TRUE(fetcher.TakeRequests().empty());
}

}  // namespace
}  // namespace steersync::sync

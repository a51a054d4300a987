// (0) The machine's limits, measured in the same run as the product's
// figures (the machine is shared and noisy: compare ratios, not absolutes).
//
//   (0a) durable LMDB: sequential 8-byte keys, 300-byte values, 1,000 per
//        transaction;
//   (0b) a plain mTLS gRPC bidi stream (the product's TLS setup, node/tls.h,
//        and the test PKI) carrying 300-byte records, 1,000 per message,
//        each message stored in one durable (0a) transaction and acked, up to
//        8 messages in flight: what a replication protocol with nothing to
//        verify could reach through this transport and store;
//   (0c) the live floor: one durable single-record commit at the writer, one
//        message over that channel, one durable single-record commit at the
//        receiver, its ack back: what any issue -> visible-elsewhere path with
//        both commits durable costs at least.
#include <algorithm>
#include <memory>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "bench.grpc.pb.h"
#include "node/lmdb/lmdb.h"
#include "node/tls.h"
#include "tests/bench/scenarios.h"

namespace steersync::bench {
namespace {

constexpr int kRecordBytes = 300;
constexpr int kRecordsPerTxn = 1000;
constexpr int kWindow = 8;  // (0b) messages in flight
constexpr int kRounds = 3;  // (0a) and (0b): the best of

// An LMDB environment of its own and the next key to append.
class RawStore {
 public:
  explicit RawStore(const std::string& dir) {
    node::lmdb::EnvOptions options;
    options.map_size = size_t{4} << 30;
    env_ = CheckOr(node::lmdb::Env::Open(dir, options), "open raw lmdb");
  }
  // Appends `records` in one durable transaction.
  template <typename Records>
  void Commit(const Records& records) {
    auto txn = CheckOr(node::lmdb::WriteTxn::Begin(*env_), "begin");
    const auto dbi = CheckOr(txn.OpenDbi("raw"), "dbi");
    for (const auto& value : records) Check(txn.Put(dbi, node::lmdb::EncodeSeq(++last_), value, MDB_APPEND), "put");
    Check(txn.Commit(), "commit");
  }

 private:
  std::unique_ptr<node::lmdb::Env> env_;
  uint64_t last_ = 0;
};

std::string Record(uint64_t i) {
  std::string r(kRecordBytes, 'v');
  const std::string n = std::to_string(i);
  r.replace(0, n.size(), n);
  return r;
}

double RawLmdb(const std::string& dir, int n) {
  RawStore store(dir);
  std::vector<std::string> batch;  // made before the clock starts: (0a) times the store alone
  for (int i = 1; i <= kRecordsPerTxn; ++i) batch.push_back(Record(i));
  const auto start = Clock::now();
  for (int done = 0; done < n; done += kRecordsPerTxn) {
    if (n - done < kRecordsPerTxn) batch.resize(n - done);
    store.Commit(batch);
  }
  return n / Seconds(Clock::now() - start);
}

// The receiving side of (0b) and (0c): one durable transaction per Batch.
class SinkService final : public bench::Sink::Service {
 public:
  explicit SinkService(const std::string& dir) : store_(dir) {}
  grpc::Status Push(grpc::ServerContext*, grpc::ServerReaderWriter<bench::Ack, bench::Batch>* stream) override {
    bench::Batch batch;
    bench::Ack ack;
    while (stream->Read(&batch)) {
      store_.Commit(batch.records());
      ack.set_seq(batch.seq());
      if (!stream->Write(ack)) break;
    }
    return grpc::Status::OK;
  }

 private:
  RawStore store_;  // one stream at a time: (0b), then (0c)
};

node::TlsFiles TestTls(const std::string& id) {
  return {testing::CertDir() + "/ca.crt", testing::NodeCert(id), testing::NodeKey(id)};
}

std::shared_ptr<node::PeerCheck> Expect(const std::string& ca_pem, const std::string& peer, const std::string& side) {
  return std::make_shared<node::PeerCheck>(ca_pem, nullptr, [peer](const std::string& id) { return id == peer; },
                                           side);
}

// A Sink server as the province and a stream to it from the commune, over
// mTLS built exactly as the product builds its sync links.
class MtlsSink {
 public:
  // The server stores into `server_dir`.
  explicit MtlsSink(const std::string& server_dir) : service_(server_dir) {
    const std::string ca_pem = CheckOr(node::ReadFileToString(testing::CertDir() + "/ca.crt"), "read ca");
    auto server_creds = CheckOr(node::MakeServerCredentials(TestTls(kProvince), Expect(ca_pem, kCommune, "bench sink"),
                                                            node::TlsOptions{}),
                                "server credentials");
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", server_creds, &port);
    builder.RegisterService(&service_);
    builder.SetMaxReceiveMessageSize(16 << 20);
    server_ = builder.BuildAndStart();
    if (!server_ || port == 0) Fail("bench sink: cannot listen");
    auto channel_creds = CheckOr(
        node::MakeChannelCredentials(TestTls(kCommune), Expect(ca_pem, kProvince, "bench dialler"), node::TlsOptions{}),
        "channel credentials");
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(16 << 20);
    channel_ = grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(port), channel_creds, args);
    stub_ = bench::Sink::NewStub(channel_);
  }
  ~MtlsSink() { server_->Shutdown(); }

  // A new stream; the caller finishes it (WritesDone, then Finish).
  std::unique_ptr<grpc::ClientReaderWriter<bench::Batch, bench::Ack>> Open(grpc::ClientContext& ctx) {
    return stub_->Push(&ctx);
  }

 private:
  SinkService service_;
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<bench::Sink::Stub> stub_;
};

void Close(grpc::ClientReaderWriter<bench::Batch, bench::Ack>& stream) {
  stream.WritesDone();
  Check(absl::Status(static_cast<absl::StatusCode>(stream.Finish().error_code()), "bench stream"), "bench stream");
}

// (0b) Batches of 1,000 records, at most kWindow unacknowledged.
double GrpcIntoLmdb(MtlsSink& sink, int n) {
  grpc::ClientContext ctx;
  auto stream = sink.Open(ctx);
  const uint64_t batches = (n + kRecordsPerTxn - 1) / kRecordsPerTxn;
  absl::Mutex mu;
  absl::CondVar acked_more;
  uint64_t acked = 0;  // guarded by mu
  const auto start = Clock::now();
  std::thread reader([&] {
    bench::Ack ack;
    while (stream->Read(&ack)) {
      absl::MutexLock lock(&mu);
      acked = ack.seq();
      acked_more.Signal();
      if (acked == batches) break;
    }
  });
  bench::Batch batch;
  int sent = 0;
  for (uint64_t b = 1; b <= batches; ++b) {
    {
      absl::MutexLock lock(&mu);
      while (acked + kWindow < b) acked_more.Wait(&mu);
    }
    batch.Clear();
    batch.set_seq(b);
    for (int i = 0; i < kRecordsPerTxn && sent < n; ++i) batch.add_records(Record(++sent));
    if (!stream->Write(batch)) Fail("bench stream: write failed");
  }
  reader.join();
  const double rate = n / Seconds(Clock::now() - start);
  Close(*stream);
  return rate;
}

}  // namespace

// (0c) Durable commit here, one message, durable commit there, ack back.
struct FloorProbe::Channel {
  explicit Channel(const testing::TempDir& dir)
      : sink(dir.Sub("raw-floor-receiver")), writer(dir.Sub("raw-floor-writer")), stream(sink.Open(ctx)) {}
  ~Channel() { Close(*stream); }
  MtlsSink sink;
  RawStore writer;
  grpc::ClientContext ctx;
  std::unique_ptr<grpc::ClientReaderWriter<bench::Batch, bench::Ack>> stream;
  uint64_t seq = 0;
};

FloorProbe::FloorProbe(const testing::TempDir& dir) : channel_(std::make_unique<Channel>(dir)) {}
FloorProbe::~FloorProbe() = default;

FloorProbe::Sample FloorProbe::Take() {
  Channel& c = *channel_;
  const std::string record = Record(++c.seq);
  bench::Batch batch;
  bench::Ack ack;
  const auto t0 = Clock::now();
  c.writer.Commit(std::vector<std::string>{record});
  const auto committed = Clock::now();
  batch.set_seq(c.seq);
  batch.add_records(record);
  if (!c.stream->Write(batch) || !c.stream->Read(&ack)) Fail("bench stream: round trip failed");
  return Sample{Millis(Clock::now() - t0), Millis(committed - t0)};
}

RawLimits MeasureRawLimits(const testing::TempDir& dir, int records, int floor_samples) {
  // A limit is what the machine can do: the best of three rounds, (0a) and
  // (0b) alternating so that a burst of someone else's load hits one round.
  RawLimits limits;
  for (int round = 1; round <= kRounds; ++round) {
    const std::string suffix = "-" + std::to_string(round);
    limits.lmdb_records_per_s = std::max(limits.lmdb_records_per_s, RawLmdb(dir.Sub("raw-lmdb" + suffix), records));
    MtlsSink sink(dir.Sub("raw-grpc-receiver" + suffix));
    limits.grpc_lmdb_records_per_s = std::max(limits.grpc_lmdb_records_per_s, GrpcIntoLmdb(sink, records));
  }
  Say("limit  (0a) durable LMDB, 300-byte records, 1000/txn:          %10.0f records/s  (best of %d)\n",
      limits.lmdb_records_per_s, kRounds);
  Machine("limit-lmdb", absl::StrFormat("n=%d records_per_s=%.0f", records, limits.lmdb_records_per_s));
  Say("limit  (0b) mTLS gRPC stream -> durable LMDB, 1000/txn, acked: %10.0f records/s  (best of %d; %.0f%% of 0a)\n",
      limits.grpc_lmdb_records_per_s, kRounds, 100.0 * limits.grpc_lmdb_records_per_s / limits.lmdb_records_per_s);
  Machine("limit-grpc-lmdb", absl::StrFormat("n=%d records_per_s=%.0f", records, limits.grpc_lmdb_records_per_s));
  limits.probe = std::make_shared<FloorProbe>(dir);
  for (int i = 0; i < floor_samples; ++i) limits.floor.Add(limits.probe->SampleMs());
  Say("limit  (0c) live floor, 2 durable commits + 1 mTLS round trip:  p50 %.2f ms  p99 %.2f ms  max %.2f ms  (n=%zu)\n",
      limits.floor.p50(), limits.floor.p99(), limits.floor.max(), limits.floor.n());
  Machine("limit-live-floor", limits.floor.Fields());
  return limits;
}

}  // namespace steersync::bench

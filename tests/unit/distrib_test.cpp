// distrib without MPI: the plan's work items, the exact result codec, the
// scheduler, the journal and --resume, and the coordinator over an in-memory transport whose
// "ranks" are threads. Merged reports are compared byte for byte with the single-process
// functions' (report/json_writer's text, per-text lines included).
#include <gtest/gtest.h>

#include <atomic>
#include <bit>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "bentov/analysis/corpus.h"
#include "bentov/analysis/pipeline.h"
#include "bentov/distrib/coordinator.h"
#include "bentov/distrib/item_result.h"
#include "bentov/distrib/journal.h"
#include "bentov/distrib/merge.h"
#include "bentov/distrib/plan.h"
#include "bentov/distrib/scheduler.h"
#include "bentov/error.h"
#include "bentov/report/json_writer.h"
#include "support/cli.h"

namespace fs = std::filesystem;
using namespace bentov;
using namespace bentov::distrib;

namespace {

std::string demo(const std::string& name) { return std::string(BENTOV_SOURCE_MODELS_DIR) + "/" + name; }
std::string sentences() { return std::string(BENTOV_TEST_DATA_DIR) + "/corpus/sentences.txt"; }

fs::path scratch(const std::string& name) {
  auto d = fs::temp_directory_path() / ("bentov_distrib_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

analysis::Corpus tiny_corpus(int n) {
  analysis::Corpus c;
  c.file = "tiny.txt";
  for (int i = 0; i < n; ++i) c.texts.push_back({i + 1, "text " + std::to_string(i)});
  return c;
}

// ---------------------------------------------------------------- in-memory transport
// Rank 0's Channel and the other ranks' Links over queues: "ranks" are threads of this test.
struct Hub {
  std::mutex m;
  std::condition_variable cv;
  std::optional<std::string> plan;
  bool gave_up = false;
  std::deque<Channel::Request> requests;
  std::map<int, std::optional<std::optional<std::size_t>>> replies;
  std::map<int, std::vector<std::size_t>> handed;  // rank -> items it got
};

class FakeChannel final : public Channel {
 public:
  FakeChannel(Hub& h, int workers) : h_(h), workers_(workers) {}
  int workers() const override { return workers_; }
  bool concurrent() const override { return true; }
  void send_plan(const std::string& plan) override {
    std::lock_guard l(h_.m);
    h_.plan = plan;
    h_.cv.notify_all();
  }
  std::optional<Request> poll(std::chrono::milliseconds wait) override {
    std::unique_lock l(h_.m);
    if (!h_.cv.wait_for(l, wait, [&] { return !h_.requests.empty(); })) return std::nullopt;
    Request r = std::move(h_.requests.front());
    h_.requests.pop_front();
    return r;
  }
  void reply(int rank, std::optional<std::size_t> item) override {
    std::lock_guard l(h_.m);
    h_.replies[rank] = item;
    if (item) h_.handed[rank].push_back(*item);
    h_.cv.notify_all();
  }
  void close() override { closed = true; }
  bool closed = false;

 private:
  Hub& h_;
  int workers_;
};

class FakeLink final : public Link {
 public:
  FakeLink(Hub& h, int rank) : h_(h), rank_(rank) {}
  std::optional<std::string> receive_plan() override {
    std::unique_lock l(h_.m);
    h_.cv.wait(l, [&] { return h_.plan || h_.gave_up; });
    return h_.plan;
  }
  std::optional<std::size_t> request(const std::string& result) override {
    std::unique_lock l(h_.m);
    h_.requests.push_back({rank_, result});
    h_.cv.notify_all();
    h_.cv.wait(l, [&] { return h_.replies[rank_].has_value(); });
    const auto item = *h_.replies[rank_];
    h_.replies[rank_].reset();
    return item;
  }

 private:
  Hub& h_;
  int rank_;
};

// Runs `plan` over rank 0 and `workers` thread-ranks; returns the results.
std::vector<ItemResult> run_ranks(const Plan& plan, int workers, Journal* journal, Hub* hub_out = nullptr) {
  Hub local_hub;
  Hub& hub = hub_out ? *hub_out : local_hub;
  FakeChannel channel(hub, workers);
  const analysis::RunOptions quiet = [] { analysis::RunOptions o; o.threads = 1; return o; }();
  std::vector<std::thread> ranks;
  std::atomic<int> served{0};
  for (int r = 1; r <= workers; ++r) {
    ranks.emplace_back([&, r] {
      FakeLink link(hub, r);
      if (serve(link, quiet)) ++served;
    });
  }
  auto results = coordinate(plan, workers ? &channel : nullptr, journal, quiet);
  for (auto& t : ranks) t.join();
  EXPECT_EQ(served.load(), workers);
  if (workers) EXPECT_TRUE(channel.closed);
  return results;
}

// ---------------------------------------------------------------- plan
TEST(DistribPlan, CorpusItemsAreSpecMajorRangesInCorpusOrder) {
  const auto p = corpus_plan({"a", "b"}, tiny_corpus(12), 0, 5, 0);
  ASSERT_EQ(p.items.size(), 6u);
  const std::vector<std::array<std::size_t, 3>> want = {{0, 0, 5}, {0, 5, 10}, {0, 10, 12},
                                                        {1, 0, 5}, {1, 5, 10}, {1, 10, 12}};
  for (std::size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(p.items[i].spec, want[i][0]);
    EXPECT_EQ(p.items[i].begin, want[i][1]);
    EXPECT_EQ(p.items[i].end, want[i][2]);
  }
  EXPECT_EQ(describe_item(p, 4), "b, texts 6-10");
  EXPECT_THROW(corpus_plan({"a"}, tiny_corpus(3), 0, 0, 0), Error);
  EXPECT_EQ(text_plan({"x", "y", "z"}, {std::string("t"), std::nullopt}, 0).items.size(), 3u);
}

TEST(DistribPlan, EncodeDecodeRoundTripsAndFingerprintIgnoresThreadsAndCosts) {
  auto p = corpus_plan({"m1", "m2"}, tiny_corpus(7), 9, 3, 2);
  p.corpus.texts[2].text = "caf\xc3\xa9 \"quoted\"\n";
  p.items[1].cost = 12345.5;
  const Plan q = decode_plan(encode_plan(p));
  EXPECT_EQ(encode_plan(q), encode_plan(p));
  EXPECT_EQ(q.corpus.texts[2].text, p.corpus.texts[2].text);
  EXPECT_EQ(q.max_tokens, 9);
  EXPECT_EQ(q.threads, 2);
  EXPECT_EQ(fingerprint(q), fingerprint(p));

  auto other = p;
  other.threads = 8;
  other.items[0].cost = 1.0;
  EXPECT_EQ(fingerprint(other), fingerprint(p));
  other.corpus.texts[0].text += "!";
  EXPECT_NE(fingerprint(other), fingerprint(p));
  EXPECT_NE(fingerprint(corpus_plan({"m1", "m2"}, tiny_corpus(7), 9, 4, 2)), fingerprint(p));  // other ranges
  auto t = text_plan({"a"}, {std::nullopt, std::vector<std::int32_t>{1, 2}}, 0);
  EXPECT_EQ(decode_plan(encode_plan(t)).source.ids, t.source.ids);
  EXPECT_FALSE(decode_plan(encode_plan(t)).source.text.has_value());

  EXPECT_THROW(decode_plan("{"), Error);
  EXPECT_THROW(decode_plan(R"({"mode":"text","specs":[],"threads":0,"source":{"text":null,"ids":null},)"
                           R"("items":[[3,0,0]],"costs":[1]})"),
               Error);  // spec 3 of none
}

// ---------------------------------------------------------------- result codec
TEST(DistribResult, DoublesRoundTripBitForBit) {
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> u(-1e3, 1e3);
  ItemResult r;
  r.model.name = "m";
  r.model.n_layers = 3;
  r.value_frob_sq = {u(rng), std::numeric_limits<double>::quiet_NaN(), -0.0};
  for (int t = 0; t < 4; ++t) {
    analysis::TextSignature ts;
    ts.line = t + 3;
    ts.n_tokens = 10 + t;
    ts.truncated = t == 2;
    ts.l_star = t;
    for (int l = 0; l < 3; ++l) {
      metrics::LayerSignature s{l, u(rng), u(rng), u(rng), u(rng), {}};
      s.sink_mass = std::ldexp(u(rng), -1060);  // subnormal
      s.locality_no_sink = std::numeric_limits<double>::infinity();
      s.entropy_no_sink = -std::numeric_limits<double>::infinity();
      s.row_entropy_mean = std::nextafter(1.0, 2.0);
      s.sheaf_trace_per_token = 1e308 * u(rng) / 1e3;
      for (int h = 0; h < 2; ++h) s.heads.push_back({u(rng) / 7.0, u(rng) / 3.0});
      ts.layers.push_back(s);
    }
    r.texts.texts.push_back(ts);
  }
  r.texts.skipped = 2;
  r.texts.truncated = 1;
  std::size_t item = 0;
  const ItemResult d = decode_result(encode_result(42, r), "test", &item);
  EXPECT_EQ(item, 42u);
  ASSERT_EQ(d.texts.texts.size(), 4u);
  auto bits = [](double v) { return std::bit_cast<std::uint64_t>(v); };
  for (std::size_t t = 0; t < 4; ++t) {
    const auto& a = r.texts.texts[t];
    const auto& b = d.texts.texts[t];
    EXPECT_EQ(a.line, b.line);
    EXPECT_EQ(a.truncated, b.truncated);
    for (std::size_t l = 0; l < 3; ++l) {
      const auto& x = a.layers[l];
      const auto& y = b.layers[l];
      for (auto f : {&metrics::LayerSignature::locality, &metrics::LayerSignature::entropy,
                     &metrics::LayerSignature::sheaf_trace, &metrics::LayerSignature::value_frob_sq,
                     &metrics::LayerSignature::sink_mass, &metrics::LayerSignature::locality_no_sink,
                     &metrics::LayerSignature::entropy_no_sink, &metrics::LayerSignature::row_entropy_mean,
                     &metrics::LayerSignature::sheaf_trace_per_token}) {
        EXPECT_EQ(bits(x.*f), bits(y.*f)) << "text " << t << " layer " << l;
      }
      ASSERT_EQ(y.heads.size(), 2u);
      EXPECT_EQ(bits(x.heads[1].entropy), bits(y.heads[1].entropy));
    }
  }
  EXPECT_TRUE(std::isnan(d.value_frob_sq[1]));
  EXPECT_TRUE(std::signbit(d.value_frob_sq[2]));
  EXPECT_EQ(d.texts.skipped, 2);
  EXPECT_FALSE(d.error.has_value());
  r.error = analysis::Failure{"m: broken", "fix it"};
  const auto back = decode_result(encode_result(1, r), "t").error;
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->message, "m: broken");
  EXPECT_EQ(back->hint, "fix it");
  EXPECT_THROW(decode_result("{\"item\": 1}", "where.json"), Error);
}

// ---------------------------------------------------------------- scheduler
TEST(DistribScheduler, CostliestFirstThenStaysOnItsCheckpointWhileWorthIt) {
  // spec 0 is big (cost 100 per range), spec 1 small (cost 10), spec 2 medium (60).
  std::vector<WorkItem> items = {{0, 0, 1, 100}, {0, 1, 2, 100}, {1, 0, 1, 10}, {1, 1, 2, 10}, {2, 0, 1, 60}};
  Scheduler s(items);
  EXPECT_EQ(s.next(0), 0u);  // costliest
  EXPECT_EQ(s.next(1), 1u);
  EXPECT_EQ(s.next(2), 4u);  // spec 2's 60 before spec 1's 10s
  EXPECT_EQ(s.next(0), 2u);
  s.finish(2);
  EXPECT_EQ(s.next(3), 3u);
  EXPECT_FALSE(s.next(1).has_value());
  EXPECT_EQ(s.pending(), 0u);
  for (std::size_t i : {0u, 1u, 3u, 4u}) s.finish(i);
  EXPECT_TRUE(s.all_finished());
  EXPECT_THROW(s.finish(0), Error);  // twice

  // Affinity: rank 0 ran spec 0 (cost 50 left); the costliest left is 80 (spec 1): 50 >= 80/2.
  Scheduler a({{0, 0, 1, 50}, {0, 1, 2, 50}, {1, 0, 1, 80}, {1, 1, 2, 80}});
  EXPECT_EQ(a.next(0), 2u);  // first request: costliest
  EXPECT_EQ(a.next(1), 3u);
  EXPECT_EQ(a.next(0), 0u);
  // ...but not when the checkpoint's items are small next to what is left.
  Scheduler b({{0, 0, 1, 100}, {0, 1, 2, 10}, {1, 0, 1, 90}, {1, 1, 2, 90}});
  EXPECT_EQ(b.next(0), 0u);
  EXPECT_EQ(b.next(0), 2u);  // 10 < 90 / 2: the large item first
  EXPECT_EQ(b.next(0), 3u);  // now on spec 1
  EXPECT_EQ(b.next(0), 1u);
}

TEST(DistribScheduler, ManyRanksGetEveryItemExactlyOnce) {
  std::vector<WorkItem> items;
  for (std::size_t i = 0; i < 500; ++i) items.push_back({i % 7, i, i + 1, static_cast<double>(i % 13)});
  Scheduler s(items);
  s.mark_done(17);
  s.mark_done(18);
  std::mutex m;
  std::multiset<std::size_t> got;
  std::vector<std::thread> ranks;
  for (int r = 0; r < 8; ++r) {
    ranks.emplace_back([&, r] {
      while (const auto i = s.next(r)) {
        {
          std::lock_guard l(m);
          got.insert(*i);
        }
        s.finish(*i);
      }
    });
  }
  for (auto& t : ranks) t.join();
  EXPECT_EQ(got.size(), 498u);
  for (std::size_t i = 0; i < 500; ++i) EXPECT_EQ(got.count(i), i == 17 || i == 18 ? 0u : 1u) << i;
  EXPECT_TRUE(s.all_finished());
}

// ---------------------------------------------------------------- merge
TEST(DistribMerge, CorpusStopsAtTheFirstFailingRangeLikeOneProcess) {
  // One spec, three ranges; the second fails after one text: its error is the model's
  // failure, and on_text saw exactly the texts before it (as the single-process run streams).
  const auto plan = corpus_plan({"/m/model"}, tiny_corpus(6), 0, 2, 0);
  std::vector<ItemResult> results(3);
  for (auto& r : results) {
    r.model.name = "model";
    r.value_frob_sq = {1.0};
  }
  auto text = [](int line) {
    analysis::TextSignature t;
    t.line = line;
    t.n_tokens = 3;
    t.layers = {metrics::LayerSignature{0, 0.5, 1.0, 2.0, 1.0, {}}};
    return t;
  };
  results[0].texts.texts = {text(1), text(2)};
  results[1].texts.texts = {text(3)};
  results[1].error = analysis::Failure{"model: corpus line 4: token id 99 out of range", "h"};
  results[2].texts.texts = {text(5), text(6)};
  std::vector<int> seen;
  analysis::CorpusOptions co;
  co.on_text = [&](const analysis::ModelReport&, const analysis::TextSignature& t) { seen.push_back(t.line); };
  const auto report = merge_corpus(plan, results, {}, co);
  EXPECT_TRUE(report.models.empty());
  ASSERT_EQ(report.failures.size(), 1u);
  EXPECT_EQ(report.failures[0].source, "/m/model");
  EXPECT_EQ(report.failures[0].failure.line(), "model: corpus line 4: token id 99 out of range (hint: h)");
  EXPECT_EQ(seen, (std::vector<int>{1, 2, 3}));
  EXPECT_THROW(merge_corpus(plan, std::vector<ItemResult>(2), {}, co), Error);
}

// ---------------------------------------------------------------- coordinator
TEST(DistribCoordinator, FourRanksGiveTheSingleProcessSweepByteForByte) {
  const std::vector<std::string> specs = {demo("pythia-demo"), demo("gpt2-demo"), "/nonexistent/checkpoint",
                                          demo("opt-demo"), demo("pythia-demo")};
  const analysis::TextSource src{std::string("Attention turns from local to global somewhere in the middle."),
                                 std::nullopt};
  const auto one = analysis::analyze_models(specs, src, {1, {}});
  auto plan = text_plan(specs, src, 1);
  estimate_costs(plan);
  Hub hub;
  const auto four = merge_text(plan, run_ranks(plan, 3, nullptr, &hub), {});
  EXPECT_EQ(report::to_json_string(four), report::to_json_string(one));
  ASSERT_EQ(four.failures.size(), 1u);
  std::multiset<std::size_t> handed;  // to the other ranks; the rest ran on rank 0 itself
  for (const auto& [rank, items] : hub.handed) handed.insert(items.begin(), items.end());
  for (std::size_t i = 0; i < plan.items.size(); ++i) EXPECT_LE(handed.count(i), 1u) << "item " << i << " ran twice";
}

TEST(DistribCoordinator, CorpusRangesOverRanksGiveTheSingleProcessJsonAndPerTextLines) {
  const auto corpus = analysis::read_corpus(sentences());
  const std::vector<std::string> specs = {demo("pythia-demo"), demo("gpt2-demo"), demo("opt-demo")};
  analysis::CorpusOptions co;
  co.bootstrap = 150;
  co.seed = 9;
  std::string lines_one, lines_four;
  co.on_text = [&](const analysis::ModelReport& m, const analysis::TextSignature& t) {
    lines_one += report::per_text_json_line(m.name, t) + "\n";
  };
  const auto one = analysis::analyze_corpus(specs, corpus, {1, {}}, co);
  co.on_text = [&](const analysis::ModelReport& m, const analysis::TextSignature& t) {
    lines_four += report::per_text_json_line(m.name, t) + "\n";
  };
  for (std::size_t shard : {1u, 5u, 100u}) {
    lines_four.clear();
    auto plan = corpus_plan(specs, corpus, 0, shard, 1);
    estimate_costs(plan);
    const auto four = merge_corpus(plan, run_ranks(plan, 3, nullptr), {}, co);
    EXPECT_EQ(report::to_json_string(four), report::to_json_string(one)) << "shard " << shard;
    EXPECT_EQ(lines_four, lines_one) << "shard " << shard;
  }
}

TEST(DistribJournal, ResumeReusesFinishedItemsAndRedoesTheRest) {
  const auto dir = scratch("resume");
  const auto corpus = analysis::read_corpus(sentences());
  const std::vector<std::string> specs = {demo("gpt2-demo"), demo("opt-demo")};
  analysis::CorpusOptions co;
  co.bootstrap = 50;
  const auto one = analysis::analyze_corpus(specs, corpus, {1, {}}, co);
  const auto plan = corpus_plan(specs, corpus, 0, 4, 1);  // 3 + 3 items
  const auto jdir = journal_path(dir / "results.json");
  EXPECT_EQ(jdir, dir / "results.json.journal");
  {
    Journal j(jdir, plan, /*resume=*/true);  // none there yet: starts from the beginning
    EXPECT_TRUE(j.loaded().empty());
    merge_corpus(plan, run_ranks(plan, 2, &j), {}, co);
  }
  for (std::size_t i = 0; i < 6; ++i) EXPECT_TRUE(fs::exists(jdir / ("item-00000" + std::to_string(i) + ".json")));
  EXPECT_EQ(bentov::testing::slurp_file(jdir / "attempts.json"), "{}\n");

  // An interrupted run: items 1 and 4 never finished (4 was running), item 0 is tampered with
  // so that reuse shows in the result.
  fs::remove(jdir / "item-000001.json");
  fs::remove(jdir / "item-000004.json");
  { std::ofstream(jdir / "attempts.json") << R"({"4": 1})"; }
  {
    auto bytes = bentov::testing::slurp_file(jdir / "item-000000.json");
    auto j = nlohmann::json::parse(bytes);
    j["texts"][0]["l_star"] = 7;  // from the journal, not recomputed
    std::ofstream(jdir / "item-000000.json") << j.dump();
  }
  Journal j(jdir, plan, /*resume=*/true);
  EXPECT_EQ(j.loaded().size(), 4u);
  EXPECT_EQ(j.attempts().at(4), 1);
  const auto resumed = merge_corpus(plan, run_ranks(plan, 1, &j), {}, co);
  ASSERT_EQ(resumed.models.size(), 2u);
  EXPECT_EQ(resumed.models[0].corpus->l_star.counts[7] - one.models[0].corpus->l_star.counts[7], 1);
  // The untampered model (its item 4 redone, 3 and 5 from the journal) is the single-process one.
  auto r1 = resumed;
  r1.models.erase(r1.models.begin());
  auto o1 = one;
  o1.models.erase(o1.models.begin());
  r1.cross_model.reset();
  o1.cross_model.reset();
  r1.mean_deviation.reset();
  o1.mean_deviation.reset();
  EXPECT_EQ(report::to_json_string(r1), report::to_json_string(o1));
  EXPECT_EQ(bentov::testing::slurp_file(jdir / "attempts.json"), "{}\n");

  // Another run's journal is refused; without --resume it is cleared.
  const auto other = corpus_plan(specs, corpus, 0, 5, 1);
  EXPECT_THROW(Journal(jdir, other, true), Error);
  Journal fresh(jdir, other, false);
  EXPECT_TRUE(fresh.loaded().empty());
  EXPECT_FALSE(fs::exists(jdir / "item-000000.json"));
  fresh.remove();
  EXPECT_FALSE(fs::exists(jdir));
  // A folder that is not a journal is never cleared.
  fs::create_directories(jdir);
  { std::ofstream(jdir / "precious.txt") << "x"; }
  EXPECT_THROW(Journal(jdir, other, false), Error);
  EXPECT_TRUE(fs::exists(jdir / "precious.txt"));
}

TEST(DistribJournal, AnItemThatStoppedTwoRunsIsReportedNotRetried) {
  const auto dir = scratch("attempts");
  const std::vector<std::string> specs = {demo("gpt2-demo"), demo("opt-demo")};
  const analysis::TextSource src{std::string("one two three four"), std::nullopt};
  const auto plan = text_plan(specs, src, 1);
  const auto jdir = journal_path(dir / "sweep.json");
  { Journal(jdir, plan, false); }
  { std::ofstream(jdir / "attempts.json") << R"({"0": 2, "1": 1})"; }
  Journal j(jdir, plan, true);
  const auto report = merge_text(plan, run_ranks(plan, 1, &j), {});
  ASSERT_EQ(report.models.size(), 1u);
  EXPECT_EQ(report.models[0].name, "opt-demo");  // one earlier attempt: retried
  ASSERT_EQ(report.failures.size(), 1u);
  EXPECT_EQ(report.failures[0].source, specs[0]);
  EXPECT_NE(report.failures[0].failure.message.find("was running when 2 earlier runs stopped"), std::string::npos)
      << report.failures[0].failure.message;
  EXPECT_NE(report.failures[0].failure.hint.find("attempts.json"), std::string::npos);
}

// ---------------------------------------------------------------- command line (no mpirun)
TEST(DistribCli, ResumeWithoutMpiGivesTheSameOutputsAndNeedsAnOutput) {
  const auto dir = scratch("cli");
  const std::string args = "analyze " + demo("gpt2-demo") + " " + demo("pythia-demo") + " --corpus " + sentences() +
                           " --bootstrap 100 --seed 4 --threads 1 --quiet";
  const auto plain = bentov::testing::run_cli(args + " --json " + (dir / "plain.json").string() + " --per-text " +
                                      (dir / "plain.jsonl").string());
  ASSERT_EQ(plain.rc, 0) << plain.err;
  const auto resumed = bentov::testing::run_cli(args + " --resume --shard-texts 5 --json " + (dir / "r.json").string() +
                                        " --per-text " + (dir / "r.jsonl").string());
  ASSERT_EQ(resumed.rc, 0) << resumed.err;
  EXPECT_EQ(bentov::testing::slurp_file(dir / "r.json"), bentov::testing::slurp_file(dir / "plain.json"));
  EXPECT_EQ(bentov::testing::slurp_file(dir / "r.jsonl"), bentov::testing::slurp_file(dir / "plain.jsonl"));
  EXPECT_EQ(resumed.out, plain.out);
  EXPECT_FALSE(fs::exists(dir / "r.json.journal"));  // complete: removed

  const auto no_output = bentov::testing::run_cli("sweep " + demo("gpt2-demo") + " " + demo("opt-demo") + " --resume --quiet");
  EXPECT_EQ(no_output.rc, 2);
  EXPECT_NE(no_output.err.find("bentov: error: --resume needs an output"), std::string::npos) << no_output.err;
  EXPECT_NE(no_output.err.find("hint: "), std::string::npos);

  // A sweep with a missing checkpoint keeps its journal; resumed, only that item runs again.
  const std::string sweep = "sweep " + demo("gpt2-demo") + " " + (dir / "later").string() + " " + demo("opt-demo") +
                            " --threads 1 --resume --json " + (dir / "sweep.json").string();
  const auto first = bentov::testing::run_cli(sweep);
  EXPECT_EQ(first.rc, 1) << first.err;
  EXPECT_TRUE(fs::exists(dir / "sweep.json.journal" / "item-000000.json"));
  fs::copy(demo("opt-demo"), dir / "later", fs::copy_options::recursive);
  const auto second = bentov::testing::run_cli(sweep);
  EXPECT_EQ(second.rc, 0) << second.err;
  EXPECT_NE(second.err.find("2 of 3 work items already finished"), std::string::npos) << second.err;
  EXPECT_EQ(second.err.find("gpt2-demo: loading"), std::string::npos) << "a finished item ran again";
  EXPECT_FALSE(fs::exists(dir / "sweep.json.journal"));
}

}  // namespace

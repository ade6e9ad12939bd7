// The single-process training loop. One optimizer step:
//   for each of grad_accum micro-batches: forward (with a ForwardContext), objective, backward
//   of total / grad_accum;  global grad norm;  if loss or norm is not finite: skip (counted);
//   else clip, set lr = base_lr * schedule(step), optimizer step;  drop the gradients.
// After the step: log, evaluate, checkpoint, early-stop, and honour SIGINT/SIGTERM, in that order.
// Data parallel (framework/distributed): every rank runs this loop on its slice of each global
// batch; gradients are averaged during the last micro-batch's backward, logged values are averaged,
// validation is sharded and put together on every rank (so all agree on the best checkpoint and
// on early stopping), rank 0 alone writes the run directory, and checkpoints are fenced by barriers.
#include "framework/train/trainer.h"

#include <chrono>
#include <csignal>
#include <cmath>
#include <limits>
#include <numeric>

#include "attention/kernels/cuda_kernels.h"
#include "framework/checkpoint/checkpoint_store.h"
#include "framework/checkpoint/weights_file.h"
#include "framework/distributed/data_parallel.h"
#include "framework/distributed/sharded_sampler.h"
#include "framework/errors.h"
#include "framework/logging/metrics_log.h"
#include "framework/logging/progress.h"
#include "framework/logging/tensorboard.h"
#include "framework/run/experiment.h"
#include "framework/run/run_dir.h"
#include "framework/run/run_info.h"
#include "framework/runtime/threads.h"
#include "framework/train/attention_statistics.h"
#include "framework/train/batch_input.h"
#include "framework/train/evaluator.h"
#include "framework/train/monitor.h"
#include "framework/train/sampler.h"
#include "framework/train/semi_supervised.h"
#include "framework/train/signals.h"
#include "framework/train/step_profiler.h"
#include "framework/train/throughput.h"
#include "framework/train/train_state.h"

namespace attnlab::train {
namespace {

using Clock = std::chrono::steady_clock;

// Steps at the start of each invocation that the throughput leaves out and debug.profile_steps
// skips: thread pools and allocator caches are still warming up.
constexpr int64_t kWarmupSteps = 5;

torch::Device pick_device(const std::string& want) {
  const bool cuda = torch::cuda::is_available();
  if (want == "cuda" && !cuda)
    throw UserError("train.device: 'cuda' was asked for but no CUDA device is available to this LibTorch");
  return (want == "cuda" || (want == "auto" && cuda)) ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
}

// Global L2 norm of all gradients (a 0-dim tensor; no host sync).
torch::Tensor grad_norm(const std::vector<torch::Tensor>& params) {
  std::vector<torch::Tensor> norms;
  for (const auto& p : params)
    if (p.grad().defined()) norms.push_back(p.grad().detach().norm(2).to(torch::kFloat));
  if (norms.empty()) return torch::zeros({}, torch::kFloat);
  return torch::stack(norms).norm(2);
}

std::string first_nonfinite_gradient(const models::Model& model) {
  for (const auto& p : model.named_parameters()) {
    const auto& g = p.value().grad();
    if (g.defined() && !torch::isfinite(g).all().item<bool>()) return p.key();
  }
  return "";
}

class TrainingRun {
 public:
  explicit TrainingRun(const run::Recipe& recipe) : r_(recipe), cfg_(recipe.train) {}

  TrainResult run();

 private:
  void setup();
  void setup_semi_supervised();
  void resume_if_any();
  // The next training micro-batch (drawn before the first step with debug.premade_batches).
  datasets::Batch next_batch();
  // This rank's optimizer state in a checkpoint (its shard under ZeRO-1); UserError when the
  // checkpoint's sharding does not match this run's.
  std::string optimizer_state_of(const checkpoint::LoadedCheckpoint& ckpt) const;
  void step_once();
  // The clean forward of the next unlabelled batch (semi-supervised training). The struct owns
  // what objective::UnlabelledForward refers to.
  struct UnlabelledBatch {
    models::ModelInput input;
    attention::ForwardContext ctx;
    models::ModelOutput out;
    objective::UnlabelledForward forward{input, out, ctx};
  };
  std::unique_ptr<UnlabelledBatch> unlabelled_forward();
  void after_step();
  // debug.profile_steps: whether the next step is one to profile (on rank 0, after the warm-up).
  bool profiles_next_step() const;
  // Writes the op table of the steps profiled so far and says where.
  void write_profile();
  void evaluate_and_track();
  // The validation split, sharded over the ranks of a data-parallel job.
  EvalResult evaluate_split();
  void write_checkpoint();
  void finish(TrainResult& result);
  nlohmann::json summary_head(const std::string& status) const;
  nlohmann::json train_state_json() const;

  const run::Recipe& r_;
  const run::TrainSettings& cfg_;
  run::RunDir dir_;
  torch::Device device_{torch::kCPU};
  std::shared_ptr<datasets::Dataset> dataset_;
  std::shared_ptr<const datasets::Split> train_split_, eval_split_;
  std::shared_ptr<datasets::Dataset> unlabelled_dataset_;  // semi_supervised.data, if given
  std::shared_ptr<const datasets::Split> unlabelled_split_;  // null: no unlabelled batches
  models::ModelPtr model_;
  std::vector<torch::Tensor> params_;
  optim::BuiltOptimizer opt_;
  std::unique_ptr<optim::Schedule> schedule_;
  std::unique_ptr<objective::Objective> objective_;
  run::NamedMetrics metrics_;
  std::unique_ptr<distributed::ShardedSampler> sampler_;
  std::unique_ptr<distributed::ShardedSampler> unlabelled_sampler_;
  std::unique_ptr<distributed::DataParallel> dp_;  // null for a single process
  bool lead_ = true;                               // rank 0: writes the run directory
  int agreed_signal_ = 0;  // data parallel: the stop signal every rank saw in the last step's all-reduce
  std::unique_ptr<checkpoint::CheckpointStore> store_;
  std::unique_ptr<logging::MetricsLog> log_;
  std::unique_ptr<logging::TensorBoardWriter> tensorboard_;
  std::unique_ptr<run::RunInfo> run_info_;  // rank 0: run_info.json (what ran, where, how long)
  std::unique_ptr<logging::Progress> progress_;
  std::unique_ptr<MetricMonitor> best_, early_;

  int64_t total_steps_ = 0, eval_every_ = 0;
  int64_t step_ = 0;  // optimizer steps done
  int64_t first_step_ = 0;  // step_ when this invocation started training
  int64_t skipped_ = 0, nonfinite_in_row_ = 0;
  int64_t last_checkpoint_step_ = -1, last_eval_step_ = -1;
  bool stop_early_ = false;
  double elapsed_before_ = 0.0;  // seconds trained before this process (resume)
  Clock::time_point start_;
  // The step's logged values.
  double loss_ = 0.0, lr_ = 0.0, norm_ = 0.0;
  std::vector<std::pair<std::string, double>> terms_;
  AttentionStatistics statistics_;  // the last step's attention statistics (e.g. MoH routing)
  std::unique_ptr<ThroughputMeter> throughput_;
  std::vector<datasets::Batch> premade_;  // debug.premade_batches: this invocation's batches, drawn up front
  int64_t premade_next_ = 0;
  EvalResult last_eval_;  // the latest evaluation (of step last_eval_step_)
  std::unique_ptr<StepProfiler> profiler_;  // debug.profile_steps, rank 0 only
  bool profile_written_ = false;
};

void TrainingRun::setup() {
  runtime::configure_threads(static_cast<int>(cfg_.threads), static_cast<int>(cfg_.blas_threads));
  attention::kernels::set_cuda_kernels_enabled(cfg_.cuda_kernels);
  at::globalContext().setDeterministicAlgorithms(cfg_.deterministic, false);
  torch::manual_seed(static_cast<uint64_t>(r_.seed));
  device_ = pick_device(cfg_.device);
  // First, so that ranks which cannot meet or disagree on the recipe fail before any work.
  dp_ = distributed::DataParallel::from_recipe(r_, device_);
  lead_ = !dp_ || dp_->lead();
  const int64_t rank = dp_ ? dp_->rank() : 0, world = dp_ ? dp_->world_size() : 1;

  dataset_ = run::build_dataset(r_);
  train_split_ = run::split_or_error(*dataset_, "train", "data");
  eval_split_ = run::split_or_error(*dataset_, r_.eval.split, "eval.split");
  // Checked now, not when training is over (a dataset without a test file has no "test" split).
  if (!r_.eval.test_split.empty()) run::split_or_error(*dataset_, r_.eval.test_split, "eval.test_split");
  metrics_ = run::build_metrics(r_, dataset_->spec());  // before the model: a mismatch fails fast
  // Parameters are initialised right after seeding, so the same seed gives the same model.
  model_ = run::build_model(r_, dataset_->spec());
  // Weights from elsewhere (a Python model, another run) replace the random ones; on resume the
  // checkpoint loaded later replaces them in turn.
  if (!cfg_.init_weights.empty()) checkpoint::load_weights(*model_, cfg_.init_weights);
  model_->to(device_);
  model_->train();
  for (const auto& p : model_->parameters()) params_.push_back(p);
  opt_ = run::build_optimizer(r_, *model_);
  objective_ = std::make_unique<objective::Objective>(run::build_objective(r_));
  setup_semi_supervised();
  // Only once every component is built: a recipe that fails to build leaves no run directory.
  dir_ = run::RunDir::create(r_.run_dir);
  if (lead_) dir_.save_recipe(r_);
  if (dp_) dp_->barrier("waiting for rank 0 to create the run directory");

  sampler_ = std::make_unique<distributed::ShardedSampler>(train_split_->size(), cfg_.batch_size, cfg_.shuffle,
                                                           cfg_.drop_last, static_cast<uint64_t>(r_.seed), rank, world);
  const int64_t steps_per_epoch = std::max<int64_t>(1, sampler_->batches_per_epoch() / cfg_.grad_accum);
  total_steps_ = cfg_.steps > 0 ? cfg_.steps
                                : (cfg_.epochs * sampler_->batches_per_epoch() + cfg_.grad_accum - 1) / cfg_.grad_accum;
  eval_every_ = cfg_.eval_every > 0 ? cfg_.eval_every : steps_per_epoch;
  schedule_ = run::build_schedule(r_, total_steps_);
  throughput_ = std::make_unique<ThroughputMeter>(cfg_.batch_size * cfg_.grad_accum * world, kWarmupSteps);
  if (lead_ && r_.debug.profile_steps > 0) profiler_ = std::make_unique<StepProfiler>();

  best_ = std::make_unique<MetricMonitor>(r_.checkpoint.monitor,
                                          run::resolve_mode(r_.checkpoint.monitor, r_.checkpoint.mode));
  early_ = std::make_unique<MetricMonitor>(
      r_.early_stopping.monitor, run::resolve_mode(r_.early_stopping.monitor, r_.early_stopping.mode),
      r_.early_stopping.min_delta);
  store_ = std::make_unique<checkpoint::CheckpointStore>(dir_.checkpoints());
  if (lead_) {
    store_->remove_stale_temporaries();
    log_ = std::make_unique<logging::MetricsLog>(dir_.metrics_path());
    // Event files sit beside metrics.jsonl, so `tensorboard --logdir runs/` shows every run.
    tensorboard_ = std::make_unique<logging::TensorBoardWriter>(dir_.path());
    run_info_ = std::make_unique<run::RunInfo>(
        dir_.path(), nlohmann::json{{"device", device_.str()},
                                    {"threads", at::get_num_threads()},
                                    {"blas_threads", cfg_.blas_threads > 0 ? cfg_.blas_threads
                                                                          : at::get_num_threads()},
                                    {"omp_wait_policy", runtime::openmp_wait_policy()},
                                    {"processes", world},
                                    {"init_weights", cfg_.init_weights}});
    progress_ = std::make_unique<logging::Progress>(cfg_.progress, total_steps_, cfg_.log_every);
  } else {
    // The other ranks compute what rank 0 prints; they stay quiet.
    static std::FILE* quiet = std::fopen("/dev/null", "w");
    progress_ = std::make_unique<logging::Progress>("none", total_steps_, cfg_.log_every, quiet ? quiet : stderr);
  }
  const auto& semi = r_.semi_supervised;
  if (semi.labelled_examples > 0 || unlabelled_split_) {
    progress_->message("semi-supervised: " + std::to_string(train_split_->size()) + " labelled examples" +
                       (unlabelled_split_ ? ", unlabelled batches of " + std::to_string(semi.batch_size) + " from " +
                                                std::to_string(unlabelled_split_->size()) + " examples"
                                          : std::string()));
  }
}

void TrainingRun::setup_semi_supervised() {
  const auto& semi = r_.semi_supervised;
  if (semi.labelled_examples > 0) {
    if (semi.labelled_examples > train_split_->size()) {
      throw UserError("semi_supervised.labelled_examples: " + std::to_string(semi.labelled_examples) +
                      " is more than the " + std::to_string(train_split_->size()) + " training examples");
    }
    std::vector<int64_t> all(static_cast<size_t>(train_split_->size()));
    std::iota(all.begin(), all.end(), 0);
    const auto labels = train_split_->batch(all).labels;
    if (labels.dim() != 1) throw UserError("semi_supervised.labelled_examples needs a classification dataset");
    train_split_ = std::make_shared<SubsetSplit>(
        train_split_, labelled_subset(labels, semi.labelled_examples, static_cast<uint64_t>(r_.seed)));
  }
  if (semi.batch_size == 0) return;
  if (!objective_->has_label_free_terms()) {
    throw UserError("semi_supervised.batch_size: no regularizer reads unlabelled data (attention_vat, "
                    "attention_ivat, word_vat or attention_entropy)");
  }
  unlabelled_dataset_ = run::build_unlabelled_dataset(r_, dataset_->spec());
  unlabelled_split_ = run::split_or_error(unlabelled_dataset_ ? *unlabelled_dataset_ : *dataset_, semi.split,
                                          "semi_supervised.split");
  // Its own order, independent of the labelled one's (another stream of the same seed).
  unlabelled_sampler_ = std::make_unique<distributed::ShardedSampler>(
      unlabelled_split_->size(), semi.batch_size, /*shuffle=*/true, /*drop_last=*/false,
      static_cast<uint64_t>(r_.seed) ^ 0x756e6c6162656c6cULL, dp_ ? dp_->rank() : 0, dp_ ? dp_->world_size() : 1);
}

nlohmann::json TrainingRun::train_state_json() const {
  nlohmann::json state = {{"step", step_},
          {"total_steps", total_steps_},
          {"sampler", sampler_->state()},
          {"best", best_->state()},
          {"early_stopping", early_->state()},
          {"skipped_steps", skipped_},
          {"nonfinite_in_row", nonfinite_in_row_},
          {"metrics_log_bytes", log_ ? log_->size() : 0},
          {"elapsed_s", elapsed_before_ + std::chrono::duration<double>(Clock::now() - start_).count()}};
  if (unlabelled_sampler_) state["unlabelled_sampler"] = unlabelled_sampler_->state();
  return state;
}

void TrainingRun::resume_if_any() {
  std::optional<checkpoint::LoadedCheckpoint> ckpt;
  if (cfg_.resume == "never") {
    if (!store_->steps().empty()) {
      throw UserError(r_.run_dir + ": already has checkpoints and train.resume=never; use train.resume=auto "
                      "to continue it or choose another run_dir");
    }
    return;
  }
  if (cfg_.resume == "auto") {
    ckpt = store_->load_latest_valid([&](const std::string& w) { progress_->message("warning: " + w); });
    if (!ckpt) return;
  } else {
    ckpt = checkpoint::CheckpointStore::load(cfg_.resume);
  }
  const auto state = nlohmann::json::parse(ckpt->files.at("trainer_state.json"));
  load_module(*model_, ckpt->files.at("model.pt"), ckpt->path + "/model.pt");
  load_optimizer(*opt_.optimizer, optimizer_state_of(*ckpt));
  load_rng_states(ckpt->files.at("rng.pt"));
  sampler_->load_state(state.at("sampler"));
  if (unlabelled_sampler_ && state.contains("unlabelled_sampler"))
    unlabelled_sampler_->load_state(state.at("unlabelled_sampler"));
  best_->load_state(state.at("best"));
  early_->load_state(state.at("early_stopping"));
  step_ = state.at("step").get<int64_t>();
  skipped_ = state.at("skipped_steps").get<int64_t>();
  nonfinite_in_row_ = state.at("nonfinite_in_row").get<int64_t>();
  elapsed_before_ = state.at("elapsed_s").get<double>();
  if (log_) log_->truncate_to(state.at("metrics_log_bytes").get<int64_t>());
  last_checkpoint_step_ = step_;
  if (lead_ && ckpt->meta.value("recipe_crc32c", "") != dir_.recipe_checksum()) {
    progress_->message("warning: the recipe differs from the one " + ckpt->path +
                       " was trained with; continuing with the new one");
  }
  progress_->message("resumed from " + ckpt->path + " at step " + std::to_string(step_) + "/" +
                     std::to_string(total_steps_));
}

std::string TrainingRun::optimizer_state_of(const checkpoint::LoadedCheckpoint& ckpt) const {
  const int64_t shards = ckpt.meta.value("optimizer_shards", int64_t{1});
  const bool sharded = dp_ && dp_->shards_optimizer();
  if (shards > 1 && !sharded) {
    throw UserError(ckpt.path + ": its optimizer state is sharded over " + std::to_string(shards) +
                    " processes (distributed.shard_optimizer); resume with the same setting");
  }
  const std::string file = dp_ ? dp_->optimizer_file() : "optimizer.pt";
  const auto it = ckpt.files.find(file);
  if (it == ckpt.files.end()) {
    throw UserError(ckpt.path + ": has no " + file + " (it was written without distributed.shard_optimizer); " +
                    "resume with the setting it was trained with");
  }
  return it->second;
}

std::unique_ptr<TrainingRun::UnlabelledBatch> TrainingRun::unlabelled_forward() {
  const datasets::Batch batch = unlabelled_split_->batch(unlabelled_sampler_->next());  // labels unread
  auto u = std::make_unique<UnlabelledBatch>();
  u->input = model_input(batch, device_);
  u->ctx.set_record_scores(objective_->needs_scores());
  u->ctx.set_record_weights(objective_->needs_weights());
  u->ctx.set_record_row_entropy(objective_->needs_row_entropy());
  u->ctx.set_record_embeddings(objective_->needs_embeddings());
  u->out = model_->forward(u->input, u->ctx);
  return u;
}

datasets::Batch TrainingRun::next_batch() {
  if (!r_.debug.premade_batches) return train_split_->batch(sampler_->next());
  if (premade_.empty()) {  // every micro-batch of this invocation, before its first step is timed
    for (int64_t k = 0; k < (total_steps_ - step_) * cfg_.grad_accum; ++k)
      premade_.push_back(train_split_->batch(sampler_->next()));
  }
  return premade_.at(static_cast<size_t>(premade_next_++));
}

void TrainingRun::step_once() {
  // Loss and terms are summed on the device and read once after the step (one host sync per
  // step, not one per micro-batch and term).
  torch::Tensor loss_sum = torch::zeros({}, torch::TensorOptions().dtype(torch::kDouble).device(device_));
  std::vector<std::pair<std::string, torch::Tensor>> term_sums;
  statistics_.clear();  // this step's forwards only, like the loss it is logged with
  const bool inject_nan = std::find(r_.debug.nan_loss_at_steps.begin(), r_.debug.nan_loss_at_steps.end(),
                                    step_) != r_.debug.nan_loss_at_steps.end();
  for (int64_t micro = 0; micro < cfg_.grad_accum; ++micro) {
    // Made on this thread, so the meter times it apart (summary.json's loading_share).
    const auto [input, labels] = throughput_->loading([&] {
      const datasets::Batch batch = next_batch();
      return std::make_pair(model_input(batch, device_), batch.labels.to(device_));
    });
    attention::ForwardContext ctx;
    ctx.set_record_scores(objective_->needs_scores());
    ctx.set_record_weights(objective_->needs_weights());
    ctx.set_record_row_entropy(objective_->needs_row_entropy());
    ctx.set_record_embeddings(objective_->needs_embeddings());
    const models::ModelOutput out = model_->forward(input, ctx);
    statistics_.add(ctx);
    std::unique_ptr<UnlabelledBatch> unlabelled;
    if (unlabelled_sampler_) unlabelled = unlabelled_forward();
    auto terms = objective_->compute(*model_, input, labels, out, ctx, step_, total_steps_,
                                     unlabelled ? &unlabelled->forward : nullptr);
    torch::Tensor loss = terms.total / static_cast<double>(cfg_.grad_accum);
    if (inject_nan) loss = loss * std::numeric_limits<double>::quiet_NaN();
    // Gradients are averaged over ranks once per optimizer step, during the last backward.
    if (dp_ && micro + 1 == cfg_.grad_accum) dp_->arm_gradient_sync();
    loss.backward();
    loss_sum = loss_sum + loss.detach().to(torch::kDouble);
    for (size_t i = 0; i < terms.terms.size(); ++i) {
      auto v = terms.terms[i].second.to(torch::kDouble) / static_cast<double>(cfg_.grad_accum);
      if (i < term_sums.size()) term_sums[i].second = term_sums[i].second + v;
      else term_sums.emplace_back(terms.terms[i].first, v);
    }
  }

  if (dp_) dp_->finish_gradient_sync();
  // One transfer for the loss, the norm and every term.
  std::vector<torch::Tensor> values = {loss_sum, grad_norm(params_).to(loss_sum.device(), torch::kDouble)};
  for (const auto& [name, v] : term_sums) values.push_back(v);
  torch::Tensor host = torch::stack(values).to(torch::kCPU).contiguous();
  const double norm = host[1].item<double>();  // of the averaged gradients: the same on every rank
  if (dp_) {
    // One collective for the logged values and for the ranks' agreement on stopping: every rank
    // stops at the same step, or the others would wait for it at the next collective.
    const int local_signal = StopSignals::received();
    host = torch::cat({host, torch::tensor({local_signal > 0 ? 1.0 : 0.0}, torch::kDouble)});
    dp_->average(host, "averaging the step's loss over ranks");
    agreed_signal_ = host[-1].item<double>() == 0.0 ? 0 : local_signal > 0 ? local_signal : SIGTERM;
  }
  const auto* h = host.data_ptr<double>();
  loss_ = h[0];
  norm_ = norm;
  terms_.clear();
  for (size_t i = 0; i < term_sums.size(); ++i) terms_.emplace_back(term_sums[i].first, h[2 + i]);
  lr_ = optim::current_lr(*opt_.optimizer);

  if (!std::isfinite(loss_) || !std::isfinite(norm_)) {
    ++skipped_;
    ++nonfinite_in_row_;
    const std::string param = first_nonfinite_gradient(*model_);
    progress_->message("warning: step " + std::to_string(step_) + " skipped: loss " + std::to_string(loss_) +
                       ", gradient norm " + std::to_string(norm_) +
                       (param.empty() ? "" : " (first non-finite gradient: " + param + ")"));
    if (nonfinite_in_row_ >= cfg_.max_nonfinite_in_row) {
      throw DivergedError("stopping at step " + std::to_string(step_) + ": " +
                          std::to_string(nonfinite_in_row_) +
                          " steps in a row had a non-finite loss or gradient (train.max_nonfinite_in_row=" +
                          std::to_string(cfg_.max_nonfinite_in_row) + "); first parameter whose gradient went " +
                          "non-finite: " + (param.empty() ? "(none: the loss itself)" : param) +
                          "; the last good checkpoint is in " + dir_.checkpoints());
    }
  } else {
    nonfinite_in_row_ = 0;
    if (cfg_.grad_clip > 0) {
      // As torch.nn.utils.clip_grad_norm_: scale by max_norm / (norm + 1e-6) when below 1.
      const double coef = cfg_.grad_clip / (norm_ + 1e-6);
      if (coef < 1.0) {
        for (auto& p : params_)
          if (p.grad().defined()) p.grad().mul_(coef);
      }
    }
    optim::apply_lr_factor(opt_, schedule_->factor(step_));
    lr_ = optim::current_lr(*opt_.optimizer);
    const bool sharded = dp_ && dp_->shards_optimizer();
    if (sharded) dp_->drop_unowned_gradients();  // ZeRO-1: each rank updates its own share
    opt_.optimizer->step();
    if (sharded) dp_->broadcast_updated_parameters();
  }
  // Dropping the gradients (rather than zeroing them) makes the next step start exactly as a
  // resumed run does, whose gradients are undefined: needed for bitwise-identical resume.
  for (auto& p : params_) p.mutable_grad() = torch::Tensor();
  ++step_;
}

EvalResult TrainingRun::evaluate_split() {
  if (!dp_) return evaluate(*model_, *eval_split_, r_.eval.split, r_.eval.batch_size, *objective_, metrics_, device_);
  // Each rank evaluates its share; the results are put together on every rank.
  const EvalSharding sharding{dp_->rank(), dp_->world_size(),
                              [this](torch::Tensor& t) { dp_->sum(t, "summing the evaluation over ranks"); }};
  return evaluate(*model_, *eval_split_, r_.eval.split, r_.eval.batch_size, *objective_, metrics_, device_, &sharding);
}

void TrainingRun::evaluate_and_track() {
  const EvalResult ev = evaluate_split();
  last_eval_step_ = step_;
  last_eval_ = ev;
  nlohmann::json rec = {{"kind", "eval"}, {"step", step_}, {"epoch", sampler_->epoch()}};
  rec.update(ev.to_json());
  if (lead_) {
    log_->write(rec);
    tensorboard_->add_scalar(r_.eval.split + "/loss", ev.loss, step_);
    for (const auto& [name, v] : ev.metrics) tensorboard_->add_scalar(r_.eval.split + "/" + name, v, step_);
    for (const auto& [name, v] : ev.statistics)
      tensorboard_->add_scalar(r_.eval.split + "/attention/" + name, v, step_);
    // Weight distributions at each evaluation: one host copy of the parameters, rare enough to be cheap.
    for (const auto& p : model_->named_parameters()) {
      const auto values = p.value().detach().to(torch::kCPU, torch::kDouble).contiguous();
      tensorboard_->add_histogram("weights/" + p.key(), {values.data_ptr<double>(), values.data_ptr<double>() + values.numel()},
                                  step_);
    }
  }
  progress_->message("step " + std::to_string(step_) + " " + ev.to_line());

  const auto metric_of = [&](const std::string& monitor) { return ev.get(monitor.substr(monitor.find('/') + 1)); };
  const bool improved = best_->observe(metric_of(best_->monitor()), step_);
  if (r_.early_stopping.enabled) {
    early_->observe(metric_of(early_->monitor()), step_);
    if (early_->evals_without_improvement() >= r_.early_stopping.patience) {
      stop_early_ = true;
      progress_->message("early stopping: " + early_->monitor() + " has not improved for " +
                         std::to_string(r_.early_stopping.patience) + " evaluations (best " +
                         std::to_string(early_->best()) + " at step " + std::to_string(early_->best_step()) + ")");
    }
  }
  // The best model must survive pruning, so an improvement is always checkpointed.
  if (improved && r_.checkpoint.keep_best) write_checkpoint();
}

void TrainingRun::write_checkpoint() {
  if (last_checkpoint_step_ == step_) return;
  const bool sharded = dp_ && dp_->shards_optimizer();
  if (!lead_) {
    last_checkpoint_step_ = step_;
    if (sharded) dp_->gather_optimizer_shards(step_, save_optimizer(*opt_.optimizer));
    // Until rank 0's checkpoint is complete, so no rank runs ahead of a checkpoint it may need.
    dp_->barrier("waiting for rank 0's checkpoint of step " + std::to_string(step_));
    return;
  }
  log_->sync();
  std::map<std::string, std::string> files = {
      {"model.pt", save_module(*model_)},
      {"optimizer.pt", save_optimizer(*opt_.optimizer)},
      {"rng.pt", save_rng_states()},
      {"trainer_state.json", train_state_json().dump(1)}};
  nlohmann::json meta = {{"recipe_crc32c", dir_.recipe_checksum()}, {"name", r_.name}};
  if (sharded) {  // ZeRO-1: every rank's optimizer shard goes into rank 0's checkpoint
    const auto shards = dp_->gather_optimizer_shards(step_, files.at("optimizer.pt"));
    for (size_t r = 1; r < shards.size(); ++r) files["optimizer.rank" + std::to_string(r) + ".pt"] = shards[r];
    meta["optimizer_shards"] = shards.size();
  }
  store_->write(step_, files, meta);
  last_checkpoint_step_ = step_;
  std::vector<int64_t> keep;
  if (r_.checkpoint.keep_best && best_->has_best()) {
    keep.push_back(best_->best_step());
    dir_.write_best(best_->best_step(), best_->monitor(), best_->best());
  }
  store_->prune(static_cast<int>(r_.checkpoint.keep_last), keep);
  if (dp_) dp_->barrier("waiting for rank 0's checkpoint of step " + std::to_string(step_));
}

void TrainingRun::after_step() {
  if (step_ % cfg_.log_every == 0 || step_ == total_steps_) {
    nlohmann::json rec = {{"kind", "train"}, {"step", step_}, {"epoch", sampler_->epoch()},
                          {"loss", loss_}, {"lr", lr_}, {"grad_norm", norm_}};
    for (const auto& [name, v] : terms_) rec["loss/" + name] = v;
    if (skipped_ > 0) rec["skipped_steps"] = skipped_;
    if (dp_) {  // how long the step waited for gradient buckets after backward, and how many overlapped it
      rec["allreduce_wait_ms"] = dp_->sync_timings().wait_ms;
      rec["buckets_during_backward"] = dp_->sync_timings().launched_during_backward;
      rec["buckets"] = dp_->sync_timings().buckets;
    }
    // Read only on logged steps: the statistics stay on the device otherwise.
    const AttentionStatistics::Read stats = statistics_.read();
    rec.update(stats.to_json());
    if (lead_) {
      log_->write(rec);
      for (const auto& [name, v] : stats.scalars) tensorboard_->add_scalar("train/attention/" + name, v, step_);
      // Per-head vectors (MoH's usage) as distributions over the head index.
      for (const auto& [name, v] : stats.vectors) tensorboard_->add_index_histogram("train/attention/" + name, v, step_);
      tensorboard_->add_scalar("train/loss", loss_, step_);
      tensorboard_->add_scalar("train/lr", lr_, step_);
      tensorboard_->add_scalar("train/grad_norm", norm_, step_);
      for (const auto& [name, v] : terms_) tensorboard_->add_scalar("train/loss/" + name, v, step_);
    }
  }
  progress_->update(step_, loss_, lr_, norm_);
  if (step_ % eval_every_ == 0 || step_ == total_steps_) throughput_->exclude([&] { evaluate_and_track(); });
  const bool periodic = r_.checkpoint.every > 0 ? step_ % r_.checkpoint.every == 0 : last_eval_step_ == step_;
  if (periodic) throughput_->exclude([&] { write_checkpoint(); });
}

bool TrainingRun::profiles_next_step() const {
  return profiler_ && step_ - first_step_ >= kWarmupSteps && profiler_->windows() < r_.debug.profile_steps;
}

void TrainingRun::write_profile() {
  profile_written_ = true;
  const int64_t first = first_step_ + kWarmupSteps + 1;  // 1-based, as the logs count steps
  const std::string table = profiler_->write(dir_.path() + "/profile", first);
  progress_->message("profile of steps " + std::to_string(first) + "-" +
                     std::to_string(first + profiler_->windows() - 1) + " (debug.profile_steps): " + table);
}

nlohmann::json TrainingRun::summary_head(const std::string& status) const {
  const double elapsed = elapsed_before_ + std::chrono::duration<double>(Clock::now() - start_).count();
  nlohmann::json summary = {{"name", r_.name},         {"status", status},
                            {"steps", step_},          {"total_steps", total_steps_},
                            {"skipped_steps", skipped_}, {"epoch", sampler_->epoch()},
                            {"wall_time_s", elapsed},  {"run_dir", r_.run_dir}};
  // This invocation's steps per second, evaluations and checkpoints excluded.
  if (auto t = throughput_->to_json(); !t.is_null()) summary["throughput"] = t;
  if (best_->has_best())
    summary["best"] = {{"monitor", best_->monitor()}, {"value", best_->best()}, {"step", best_->best_step()}};
  return summary;
}

void TrainingRun::finish(TrainResult& result) {
  progress_->finish();
  nlohmann::json summary = summary_head(result.status);
  if (result.status == "interrupted" || result.status == "paused") {
    // Nothing more is evaluated or logged: the resumed run must find the logs exactly as its
    // checkpoint left them.
    if (lead_) dir_.write_summary(summary);
    result.summary = summary;
    return;
  }
  if (last_eval_step_ != step_) {
    if (step_ > first_step_) {
      evaluate_and_track();
    } else {
      // Resumed a run that had already finished: report, but log nothing new.
      last_eval_ = evaluate_split();
    }
  }
  write_checkpoint();
  summary = summary_head(result.status);
  summary["final"] = {{r_.eval.split, last_eval_.to_json()}};

  if (!lead_) {  // the final test evaluation and the summary are rank 0's
    result.summary = summary;
    return;
  }
  if (!r_.eval.test_split.empty()) {
    const auto test = run::split_or_error(*dataset_, r_.eval.test_split, "eval.test_split");
    const EvalResult t = evaluate(*model_, *test, r_.eval.test_split, r_.eval.batch_size, *objective_,
                                  metrics_, device_);
    summary["final"][r_.eval.test_split] = t.to_json();
    progress_->message("final " + t.to_line());
    if (r_.checkpoint.keep_best && best_->has_best() && best_->best_step() != step_) {
      // The test score of the best-on-validation weights, as papers usually report.
      load_model_weights(*model_, store_->path_of(best_->best_step()));
      const EvalResult tb = evaluate(*model_, *test, r_.eval.test_split, r_.eval.batch_size, *objective_,
                                     metrics_, device_);
      summary["best"][r_.eval.test_split] = tb.to_json();
      progress_->message("best (step " + std::to_string(best_->best_step()) + ") " + tb.to_line());
    }
  }
  dir_.write_summary(summary);
  result.summary = summary;
}

TrainResult TrainingRun::run() {
  setup();
  start_ = Clock::now();
  resume_if_any();
  if (dp_) {
    std::vector<torch::Tensor> buffers;
    for (const auto& b : model_->buffers()) buffers.push_back(b);
    dp_->attach(params_, buffers);
  }
  progress_->message("training " + r_.name + " for " + std::to_string(total_steps_) + " steps on " +
                     device_.str() + (dp_ ? ", " + dp_->describe() : std::string()) + " in " + r_.run_dir);
  TrainResult result;
  result.lead = lead_;
  result.status = "completed";
  StopSignals signals;
  first_step_ = step_;
  while (step_ < total_steps_ && !stop_early_) {
    throughput_->begin_step();
    // Only the optimizer step itself is profiled: evaluations and checkpoints stay out of the table.
    const bool profiled = profiles_next_step();
    try {
      if (profiled) profiler_->start();
      step_once();
      if (profiled) profiler_->stop();
    } catch (const DivergedError&) {
      progress_->finish();
      if (lead_) dir_.write_summary(summary_head("diverged"));
      if (run_info_) run_info_->finish("diverged", step_);
      throw;
    }
    // Written as soon as the last profiled step is done, so a run that fails later still has it.
    if (profiled && profiler_->windows() == r_.debug.profile_steps)
      throughput_->exclude([&] { write_profile(); });
    after_step();
    throughput_->end_step();
    // Data parallel: the signal the ranks agreed on in the step's all-reduce.
    if (int sig = dp_ ? agreed_signal_ : StopSignals::received()) {
      write_checkpoint();
      result.status = "interrupted";
      result.interrupt_signal = sig;
      progress_->message(std::string("interrupted by ") + (sig == SIGINT ? "SIGINT" : "SIGTERM") +
                         " at step " + std::to_string(step_) + "; checkpoint saved; run the same command to resume");
      break;
    }
    if (cfg_.stop_after_steps > 0 && step_ - first_step_ >= cfg_.stop_after_steps && step_ < total_steps_) {
      write_checkpoint();
      result.status = "paused";
      progress_->message("paused after " + std::to_string(step_ - first_step_) + " steps (train.stop_after_steps) at step " +
                         std::to_string(step_) + "; checkpoint saved; run the same command to continue");
      break;
    }
  }
  if (stop_early_) result.status = "early_stopped";
  if (profiler_ && !profile_written_) {  // the invocation ended before all the steps asked for
    if (profiler_->windows() > 0) {
      write_profile();
    } else {
      progress_->message("debug.profile_steps: no step profiled: this invocation ran " +
                         std::to_string(step_ - first_step_) + " steps and the first " +
                         std::to_string(kWarmupSteps) + " are warm-up");
    }
  }
  finish(result);
  // After the final evaluations, so the peak memory and the wall time include them.
  if (run_info_) run_info_->finish(result.status, step_);
  return result;
}

}  // namespace

TrainResult train(const run::Recipe& recipe) {
  TrainingRun run(recipe);
  return run.run();
}

}  // namespace attnlab::train

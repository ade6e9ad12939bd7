// Training progress for people: on a terminal, one redrawn bar
//   [#########.........] 120/500  24%  35.2 step/s  ETA 0:11  loss 0.5321  lr 1.00e-03
// and otherwise (a log file, CI) a plain line every `every` steps
//   step 120/500 (24%) | loss 0.5321 | lr 1.00e-03 | grad_norm 1.234 | 35.2 step/s | ETA 11s
// Other messages (evaluations, warnings) go through message() so they never tangle with the bar.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace attnlab::logging {

class Progress {
 public:
  // mode: auto | bar | lines | none ("auto": bar when stdout is a terminal).
  Progress(const std::string& mode, int64_t total_steps, int64_t every, std::FILE* out = stdout);

  // Called after every optimizer step; `step` is the number of steps done.
  void update(int64_t step, double loss, double lr, double grad_norm);
  void message(const std::string& line);
  void finish();

  double steps_per_second() const { return rate_; }
  bool is_bar() const { return bar_; }

 private:
  void draw(int64_t step, double loss, double lr);

  bool bar_ = false, quiet_ = false;
  int64_t total_, every_;
  std::FILE* out_;
  bool bar_visible_ = false;
  std::chrono::steady_clock::time_point last_draw_, rate_time_;
  int64_t rate_step_ = -1;
  double rate_ = 0.0;
};

// "1:02:03", "4:05", "12s".
std::string format_duration(double seconds);

}  // namespace attnlab::logging

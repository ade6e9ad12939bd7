// Progress bar on a terminal, periodic plain lines otherwise.
#include "framework/logging/progress.h"

#include <unistd.h>

#include <cmath>

namespace attnlab::logging {

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const int64_t s = static_cast<int64_t>(std::llround(seconds));
  char buf[32];
  if (s >= 3600) {
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", (long long)(s / 3600),
                  (long long)(s / 60 % 60), (long long)(s % 60));
  } else if (s >= 60) {
    std::snprintf(buf, sizeof buf, "%lld:%02lld", (long long)(s / 60), (long long)(s % 60));
  } else {
    std::snprintf(buf, sizeof buf, "%llds", (long long)s);
  }
  return buf;
}

Progress::Progress(const std::string& mode, int64_t total_steps, int64_t every, std::FILE* out)
    : total_(total_steps), every_(every), out_(out) {
  quiet_ = mode == "none";
  bar_ = mode == "bar" || (mode == "auto" && ::isatty(::fileno(out)));
  last_draw_ = rate_time_ = std::chrono::steady_clock::now();
}

void Progress::update(int64_t step, double loss, double lr, double grad_norm) {
  const auto now = std::chrono::steady_clock::now();
  // Rate over the last second or so: smooth enough to read, recent enough to be true.
  const double dt = std::chrono::duration<double>(now - rate_time_).count();
  if (rate_step_ < 0) {
    rate_step_ = step;
    rate_time_ = now;
  } else if (dt >= 1.0 || step == total_ || (rate_ == 0.0 && dt >= 0.05)) {
    // (A first estimate after 50 ms, so short runs do not show "0.0 step/s" for a second.)
    if (step > rate_step_ && dt > 0) rate_ = (step - rate_step_) / dt;
    rate_step_ = step;
    rate_time_ = now;
  }
  if (quiet_) return;
  if (bar_) {
    if (step == total_ || std::chrono::duration<double>(now - last_draw_).count() > 0.1) {
      draw(step, loss, lr);
      last_draw_ = now;
    }
    return;
  }
  if (step % every_ != 0 && step != total_) return;
  const double eta = rate_ > 0 ? (total_ - step) / rate_ : NAN;
  char rate[32] = "?";  // not measured yet in the first few milliseconds
  if (rate_ > 0) std::snprintf(rate, sizeof rate, "%.1f", rate_);
  std::fprintf(out_, "step %lld/%lld (%d%%) | loss %.4f | lr %.2e | grad_norm %.3f | %s step/s | ETA %s\n",
               (long long)step, (long long)total_, int(100.0 * step / std::max<int64_t>(total_, 1)),
               loss, lr, grad_norm, rate, format_duration(eta).c_str());
  std::fflush(out_);
}

void Progress::draw(int64_t step, double loss, double lr) {
  const int width = 24;
  const double frac = double(step) / std::max<int64_t>(total_, 1);
  const int filled = static_cast<int>(frac * width);
  std::string bar(filled, '#');
  bar += std::string(width - filled, '.');
  const double eta = rate_ > 0 ? (total_ - step) / rate_ : NAN;
  std::fprintf(out_, "\r\033[K[%s] %lld/%lld %3d%%  %.1f step/s  ETA %s  loss %.4f  lr %.2e",
               bar.c_str(), (long long)step, (long long)total_, int(100 * frac), rate_,
               format_duration(eta).c_str(), loss, lr);
  std::fflush(out_);
  bar_visible_ = true;
}

void Progress::message(const std::string& line) {
  if (bar_visible_) std::fprintf(out_, "\r\033[K");
  std::fprintf(out_, "%s\n", line.c_str());
  std::fflush(out_);
  bar_visible_ = false;  // redrawn on the next update
}

void Progress::finish() {
  if (bar_visible_) std::fprintf(out_, "\n");
  bar_visible_ = false;
  std::fflush(out_);
}

}  // namespace attnlab::logging

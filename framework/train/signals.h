// SIGINT and SIGTERM during training: the first one asks the trainer to save a checkpoint after
// the current step and exit; a second one of the same kind kills the process as usual.
#pragma once

namespace attnlab::train {

class StopSignals {
 public:
  StopSignals();   // installs the handlers
  ~StopSignals();  // restores the previous ones
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  // 0 when no signal arrived, else the signal number.
  static int received();
  static void reset();
};

}  // namespace attnlab::train

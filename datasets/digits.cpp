// Reader and patching for the scikit-learn digits; see digits.h for the format and shapes.
#include "datasets/digits.h"

#include <glob.h>
#include <zlib.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "datasets/splits.h"

namespace attnlab::datasets {
namespace {

constexpr int64_t kSide = 8;                // images are 8x8
constexpr int64_t kPixels = kSide * kSide;  // 64 pixel columns, then the label
constexpr int64_t kColumns = kPixels + 1;
constexpr const char* kRelative = "sklearn/datasets/data/digits.csv.gz";

std::vector<std::string> glob_paths(const std::string& pattern) {
  std::vector<std::string> found;
  glob_t g{};
  if (glob(pattern.c_str(), 0, nullptr, &g) == 0) {
    for (size_t i = 0; i < g.gl_pathc; ++i) found.emplace_back(g.gl_pathv[i]);
  }
  globfree(&g);
  return found;
}

// Closes the gzFile however the reader exits.
struct GzCloser {
  void operator()(gzFile_s* f) const { gzclose(f); }
};

std::string trim(const std::string& s) {
  const auto begin = s.find_first_not_of(" \t\r\n");
  if (begin == std::string::npos) return "";
  return s.substr(begin, s.find_last_not_of(" \t\r\n") - begin + 1);
}

// Reads one line (without its newline) of any length; false at end of file.
bool read_line(gzFile file, std::string& line, const std::string& path) {
  line.clear();
  char buffer[4096];
  while (gzgets(file, buffer, sizeof buffer) != nullptr) {
    line += buffer;
    if (!line.empty() && line.back() == '\n') {
      line.pop_back();
      return true;
    }
  }
  int code = Z_OK;
  const char* message = gzerror(file, &code);
  if (code != Z_OK && code != Z_STREAM_END) {
    throw DataError(path + ": cannot read: " + (message ? message : "zlib error"));
  }
  return !line.empty();  // a last line without a newline
}

}  // namespace

std::string find_digits_file() {
  const std::vector<std::string> patterns = {
      std::string("/usr/lib/python3/dist-packages/") + kRelative,
      std::string("/usr/lib/python3*/dist-packages/") + kRelative,
      std::string("/usr/local/lib/python3*/dist-packages/") + kRelative,
      std::string("/usr/local/lib/python3*/site-packages/") + kRelative,
  };
  std::string looked;
  for (const auto& pattern : patterns) {
    for (const auto& path : glob_paths(pattern)) {
      if (std::filesystem::is_regular_file(path)) return path;
    }
    looked += (looked.empty() ? "" : ", ") + pattern;
  }
  throw DataError("digits data not found (looked in " + looked +
                  "); install python3-sklearn (tools/setup.sh does) or set data.path");
}

DigitsData read_digits_csv(const std::string& path) {
  // gzopen reads an uncompressed file transparently, so a plain .csv works as well.
  std::unique_ptr<gzFile_s, GzCloser> file(
      std::filesystem::is_regular_file(path) ? gzopen(path.c_str(), "rb") : nullptr);
  if (!file) throw DataError(path + ": digits file not found");

  std::vector<float> pixels;
  std::vector<int64_t> labels;
  std::string line;
  for (int64_t line_no = 1; read_line(file.get(), line, path); ++line_no) {
    if (trim(line).empty()) continue;  // tolerate blank lines, e.g. a trailing one
    const std::string where = path + ":" + std::to_string(line_no) + ": ";
    std::vector<std::string> fields;
    std::stringstream stream(line);
    for (std::string field; std::getline(stream, field, ',');) fields.push_back(trim(field));
    if (!line.empty() && line.back() == ',') fields.emplace_back();  // getline drops a last ""
    if (static_cast<int64_t>(fields.size()) != kColumns) {
      throw DataError(where + "expected " + std::to_string(kColumns) +
                      " comma-separated values, got " + std::to_string(fields.size()));
    }
    for (int64_t c = 0; c < kColumns; ++c) {
      const std::string& text = fields[c];
      const std::string column = "column " + std::to_string(c + 1) + ": ";
      char* end = nullptr;
      errno = 0;
      const double value = std::strtod(text.c_str(), &end);
      if (text.empty() || end != text.c_str() + text.size() || errno == ERANGE ||
          !std::isfinite(value)) {
        throw DataError(where + column + "'" + text + "' is not a number");
      }
      if (c < kPixels) {
        if (value < 0.0 || value > 16.0) {
          throw DataError(where + column + "pixel value " + text + " is outside 0..16");
        }
        pixels.push_back(static_cast<float>(value));
      } else {
        if (value != std::floor(value) || value < 0.0 || value > 9.0) {
          throw DataError(where + column + "label " + text + " is not an integer in 0..9");
        }
        labels.push_back(static_cast<int64_t>(value));
      }
    }
  }
  if (labels.empty()) throw DataError(path + ": no digits rows");
  const auto n = static_cast<int64_t>(labels.size());
  return {torch::tensor(pixels, torch::kFloat).view({n, kSide, kSide}),
          torch::tensor(labels, torch::kLong)};
}

torch::Tensor images_to_patches(const torch::Tensor& images, int64_t p) {
  TORCH_CHECK(images.dim() == 3 && p > 0 && images.size(1) % p == 0 && images.size(2) % p == 0,
              "images_to_patches: images (N, H, W) with H, W divisible by ", p, ", got ",
              images.sizes());
  const int64_t n = images.size(0), rows = images.size(1) / p, cols = images.size(2) / p;
  return images
      .reshape({n, rows, p, cols, p})     // (N, H/p, p, W/p, p)
      .permute({0, 1, 3, 2, 4})           // (N, H/p, W/p, p, p)
      .reshape({n, rows * cols, p * p});  // (N, T, p*p)
}

torch::Tensor patches_to_images(const torch::Tensor& patches, int64_t p, int64_t height,
                                int64_t width) {
  TORCH_CHECK(p > 0 && height % p == 0 && width % p == 0 && patches.dim() == 3 &&
                  patches.size(1) == (height / p) * (width / p) && patches.size(2) == p * p,
              "patches_to_images: patches must be (N, ", (height / p) * (width / p), ", ", p * p,
              "), got ", patches.sizes());
  const int64_t n = patches.size(0), rows = height / p, cols = width / p;
  return patches
      .reshape({n, rows, cols, p, p})  // (N, H/p, W/p, p, p)
      .permute({0, 1, 3, 2, 4})        // (N, H/p, p, W/p, p)
      .reshape({n, height, width});    // (N, H, W)
}

DigitsDataset::DigitsDataset(const DigitsOptions& options)
    : options_(options), path_(options.path.empty() ? find_digits_file() : options.path) {
  const int64_t p = options.patch_size;
  if (p != 1 && p != 2 && p != 4 && p != 8) {
    throw DataError("digits: patch_size must be 1, 2, 4 or 8 (got " + std::to_string(p) + ")");
  }
  const auto raw = read_digits_csv(path_);
  const auto inputs = images_to_patches(raw.images / 16.0f, p).contiguous();  // (N,T,p*p) in [0,1]

  const auto labels = raw.labels.contiguous();
  const std::vector<int64_t> label_list(labels.data_ptr<int64_t>(),
                                        labels.data_ptr<int64_t>() + labels.numel());
  const auto parts =
      stratified_split(label_list, options.val_fraction, options.test_fraction, options.seed);
  train_ = InMemorySplit::select(inputs, labels, {}, parts.train);
  val_ = InMemorySplit::select(inputs, labels, {}, parts.val);
  test_ = InMemorySplit::select(inputs, labels, {}, parts.test);

  spec_.num_classes = 10;
  spec_.vocab_size = 0;
  spec_.feature_dim = p * p;
  spec_.max_length = (kSide / p) * (kSide / p);
  spec_.pad_id = 0;
}

std::shared_ptr<const Split> DigitsDataset::corrupted_split(const std::string& name, Corruption corruption,
                                                            int64_t severity, uint64_t seed) const {
  const auto clean = std::static_pointer_cast<const InMemorySplit>(split(name));
  const int64_t p = options_.patch_size;
  const auto images = patches_to_images(clean->inputs(), p, kSide, kSide);
  const auto corrupted = corrupt_images(images, corruption, severity, seed);
  return std::make_shared<InMemorySplit>(images_to_patches(corrupted, p).contiguous(), clean->labels());
}

std::shared_ptr<const Split> DigitsDataset::split(const std::string& name) const {
  if (name == "train") return train_;
  if (name == "val") return val_;
  if (name == "test") return test_;
  throw DataError("digits: no split '" + name + "' (valid: train, val, test)");
}

TokenView DigitsDataset::token_view(const Batch& batch, int64_t index) const {
  const int64_t p = options_.patch_size, side = 8 / p;
  const auto image = patches_to_images(batch.inputs.slice(0, index, index + 1).to(torch::kCPU).to(torch::kFloat),
                                       p, 8, 8)[0].contiguous();
  TokenView view;
  view.image_height = view.image_width = 8;
  view.pixels.assign(image.data_ptr<float>(), image.data_ptr<float>() + 64);
  view.grid_rows = view.grid_cols = side;
  for (int64_t r = 0; r < side; ++r)
    for (int64_t c = 0; c < side; ++c) view.labels.push_back(std::to_string(r) + "," + std::to_string(c));
  return view;
}

}  // namespace attnlab::datasets

// Registers attention_at, attention_iat, attention_rp, attention_vat and attention_entropy.
#pragma once

namespace attnlab::objective {
void register_attention_regularizers();
}

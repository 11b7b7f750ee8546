#!/usr/bin/env python3
"""Texts and tokenizers of the Llama-family fixtures that bentov analyzes from text.

The tokenizer files are the real ones of ../shared/data/tokenizers, which stay outside the
project; the fixtures hold only config and weights, with a vocabulary as large as the
tokenizer's. The ids are transformers' own: run here, where transformers and tokenizers are
installed (no torch needed),

    python3 scripts/fixture_texts.py ../shared/data tests/data/text_fixture_ids.json

and scripts/make_fixtures.py (on the device machine, which has torch but not the tokenizer
files) builds each checkpoint and records its references from those ids and texts.
"""
import json
import sys

# fixture name: (tokenizer folder under shared/data/tokenizers, the checkpoint's model_type).
# AutoTokenizer reads config.json too: for model_type "mistral" transformers 5.17 takes
# TokenizersBackend (tokenizer.json as it stands) over tokenizer_config's LlamaTokenizer, so the
# same files give other ids beside a Mistral config than beside a Llama one.
TEXT_FIXTURES = {
    "llama2-text": ("llama2", "llama"),
    "mistral-text": ("llama2", "mistral"),
    "llama3-text": ("llama3", "llama"),
    "qwen2-text": ("qwen3", "qwen2"),
}

# Short enough for max_position_embeddings=128 under every tokenizer. Leading and doubled
# spaces, newlines, digits, non-ASCII and special tokens written inside the text are where
# the Llama 2 class pipeline (legacy Metaspace) and the byte-level ones differ most.
TEXTS = [
    "The fundamental nature of reality is that all things are interconnected through underlying mathematical structures.",
    "ROMEO:\nBut, soft! what light through yonder window breaks?\nIt is the east, and Juliet is the sun.",
    "  Leading spaces,  doubled  spaces and 1234567 digits: caf\u00e9, na\u00efve, \u65e5\u672c\u8a9e.",
    "Special tokens inside text: <s> and </s>, <|begin_of_text|>, <|endoftext|> and <|im_start|>.",
]


def checkpoint_like(tokenizer_dir, model_type):
    """A temporary folder with the tokenizer files and a config.json naming model_type."""
    import os
    import shutil
    import tempfile
    folder = tempfile.mkdtemp(prefix="bentov_text_")
    for f in os.listdir(tokenizer_dir):
        shutil.copy(os.path.join(tokenizer_dir, f), folder)
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump({"model_type": model_type}, f)
    return folder


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    import transformers
    from transformers import AutoTokenizer
    shared, out = sys.argv[1], sys.argv[2]
    ids = {"transformers_version": transformers.__version__}
    for name, (tokenizer, model_type) in TEXT_FIXTURES.items():
        tok = AutoTokenizer.from_pretrained(checkpoint_like(f"{shared}/tokenizers/{tokenizer}", model_type))
        ids[name] = {"tokenizer": tokenizer, "model_type": model_type, "tokenizer_class": type(tok).__name__,
                     "vocab_size": len(tok), "texts": TEXTS,
                     "input_ids": [tok(t)["input_ids"] for t in TEXTS]}
        print(f"{name}: {tokenizer}, {len(tok)} ids, lengths {[len(i) for i in ids[name]['input_ids']]}")
    with open(out, "w") as f:
        json.dump(ids, f, indent=1, ensure_ascii=False)


if __name__ == "__main__":
    main()
